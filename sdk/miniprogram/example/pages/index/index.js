// A page tracked by the SDK: page_view with the stay time (onShow to onHide/onUnload), and share
// from onShareAppMessage / onShareTimeline. The page's own handlers run as usual.
const { tracker } = getApp();

Page(tracker.page({
  data: { coupons: 3 },

  claimCoupon() {
    this.setData({ coupons: this.data.coupons - 1 });
    tracker.track('custom.coupon_claimed', { couponsLeft: this.data.coupons });
  },

  pay() {
    // Usually reported by the payment back end (with the .NET SDK); shown here for completeness.
    tracker.track('order_paid', { orderId: 'o-' + Date.now(), amount: 1280, currency: 'CNY', merchantId: 'm-42' });
  },

  onShareAppMessage() {
    return { title: 'Three coupons waiting for you', path: '/pages/index/index' };
  },

  onShareTimeline() {
    return { title: 'Coupons' };
  },
}));
