// app.js of a mini-program using the metrics SDK. Copy sdk/miniprogram into the project
// (or install it and run the developer tools' "build npm"), then require it.
const { createTracker } = require('./metrics/index.js'); // sdk/miniprogram/src copied to ./metrics

const tracker = createTracker({
  endpoint: 'https://metrics.example.com', // must be in the mini-program's request domain list
  apiKey: 'mpk_REPLACE_WITH_YOUR_KEY',      // an ingest key of your source: keys create --source miniapp-sdk --mini-programs wx1234567890abcdef
  miniProgramId: 'wx1234567890abcdef',      // this mini-program's appId
});

// Sessions, the entry scene and the app's trips to the background are followed from here on.
tracker.start();

App({
  tracker,
  onLaunch() {
    wx.login({
      success: () => {
        // Once your server has exchanged the code for the user's openid, report as that user:
        // tracker.setUserId(openid);
      },
    });
  },
});
