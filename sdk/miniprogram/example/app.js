// app.js of a mini-program using the metrics SDK. Copy sdk/miniprogram into the project
// (or install it and run the developer tools' "build npm"), then require it.
const { createTracker } = require('./metrics/index.js'); // sdk/miniprogram/src copied to ./metrics

// Created at the very top of app.js: where the runtime cannot report the launch time
// (wx.getPerformance), loadMs is measured from here to the launch page's onReady.
const tracker = createTracker({
  endpoint: 'https://metrics.example.com', // must be in the mini-program's request domain list
  apiKey: 'mpk_REPLACE_WITH_YOUR_KEY',      // an ingest key of your source: keys create --source miniapp-sdk --mini-programs wx1234567890abcdef
  miniProgramId: 'wx1234567890abcdef',      // this mini-program's appId
  // Everything below is captured without code; each line turns one capture off.
  autoCapture: {
    // loadTime: false,      // session_start.loadMs (cold-start time)
    // referrer: false,      // session_start.referrerMiniProgramId
    // launchQuery: false,   // session_start.utm_source, utm_medium, utm_campaign, ... from the launch query
    // chatType: false,      // session_start.chatType (opened from a chat)
    // errors: false,        // error (js_error) from wx.onError and wx.onUnhandledRejection
    // networkErrors: false, // error (network) from tracker.request failures
  },
});

// Sessions, the entry scene, the launch time, script errors and the app's trips to the
// background are followed from here on.
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
