// A page tracked by the SDK: page_view with the stay time (onShow to onHide/onUnload), share
// from onShareAppMessage / onShareTimeline, and (as the launch page) the end of the launch when the
// runtime cannot report it. The page's own handlers run as usual.
const { tracker } = getApp();

/** The user's profile from a service that is down today: a promise that rejects. */
function loadProfile() {
  return new Promise((resolve, reject) => {
    setTimeout(() => reject(new Error('example rejection from the Refresh button: profile service down')), 0);
  });
}

Page(tracker.page({
  data: { coupons: 3, offline: false, nickname: '' },

  onLoad() {
    // tracker.request is wx.request (same options, same RequestTask, same callbacks); a request that
    // fails or is answered with a status >= 400 is also tracked as an error of kind network, with
    // the address without its query (so the token below is not sent to the pipeline).
    tracker.request({
      url: 'https://api.example.com/coupons?token=REPLACE', // in the request domain list too
      success: (res) => {
        if (res.statusCode === 200) this.setData({ coupons: res.data.left });
      },
      fail: () => this.setData({ offline: true }),
    });
  },

  claimCoupon() {
    this.setData({ coupons: this.data.coupons - 1 });
    tracker.track('custom.coupon_claimed', { couponsLeft: this.data.coupons });
  },

  pay() {
    // Usually reported by the payment back end (with the .NET SDK); shown here for completeness.
    tracker.track('order_paid', { orderId: 'o-' + Date.now(), amount: 1280, currency: 'CNY', merchantId: 'm-42' });
  },

  breakSomething() {
    // An uncaught error reaches wx.onError: the SDK tracks it as an error of kind js_error.
    throw new Error('example error from the Break button');
  },

  refreshProfile() {
    // A promise that rejects with no .catch reaches wx.onUnhandledRejection: the SDK tracks it as an
    // error of kind js_error too (origin onUnhandledRejection). The promise is returned only so that
    // a test can hand its rejection to the runtime; a page would not need to.
    return loadProfile().then((profile) => this.setData({ nickname: profile.nickname }));
  },

  onShareAppMessage() {
    return { title: 'Three coupons waiting for you', path: '/pages/index/index?utm_source=wechat&utm_medium=share_card&utm_campaign=coupons' };
  },

  onShareTimeline() {
    return { title: 'Coupons', query: 'utm_source=wechat&utm_medium=moments&utm_campaign=coupons' };
  },
}));
