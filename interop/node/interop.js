// Drives the WeChat Pay emulator (`wxpay emulator`) with the npm package
// wechatpay-axios-plugin, which nobody on this project wrote: its signed
// requests must be accepted, the emulator's signed responses must pass its
// verifier, a tampered request signature must be refused, and its chain
// must reach the same path as wxpay's.
//
// Usage: node interop.js DIR   (DIR holds wxpay.json from `wxpay emulator --dir DIR`)
'use strict';
const fs = require('fs');
const path = require('path');
const { Wechatpay, Rsa } = require('wechatpay-axios-plugin');

async function main(dir) {
  const fc = JSON.parse(fs.readFileSync(path.join(dir, 'wxpay.json'), 'utf8'));
  const certs = {};
  let pubId;
  for (const [id, file] of Object.entries(fc.certs)) {
    certs[id] = Rsa.from(`file://${file}`, Rsa.KEY_TYPE_PUBLIC);
    if (id.startsWith('PUB_KEY_ID_')) pubId = id;
  }
  const privateKey = Rsa.from(`file://${fc.private_key}`, Rsa.KEY_TYPE_PRIVATE);
  const wxpay = new Wechatpay({ mchid: fc.mchid, serial: fc.serial, privateKey, certs, baseURL: fc.base_url });
  const paths = [];
  const ok = (what, res) => {
    paths.push(res.request.path);
    console.log(`  ${what}: ${res.status} ${res.request.path}, verified by wechatpay-axios-plugin`);
  };

  ok('apply refund', await wxpay.v3.refund.domestic.refunds.post({
    out_trade_no: 'NODE-INTEROP-T1', out_refund_no: 'NODE-INTEROP-R1', reason: 'interop',
    amount: { refund: 100, total: 888, currency: 'CNY' },
  }));
  ok('e-commerce refund', await wxpay.v3.ecommerce.refunds.apply.post({
    sub_mchid: '1900000109', sp_appid: 'wx8888888888888888', transaction_id: 'NODE-INTEROP-T2',
    out_refund_no: 'NODE-INTEROP-E1', funds_account: 'AVAILABLE',
    amount: { refund: 88, total: 888, currency: 'CNY' },
  }));
  const abnormal = {
    sub_mchid: '1900000109', out_refund_no: '1217752501201407033233368018', type: 'USER_BANK_CARD',
    bank_type: 'ICBC_DEBIT',
    bank_account: Rsa.encrypt('6222020200001234', certs[pubId]),
    real_name: Rsa.encrypt('张三', certs[pubId]),
  };
  const headers = { 'Wechatpay-Serial': pubId };
  const refundId = '50000000382019052709732678859';
  ok('abnormal refund (partner)', await wxpay.v3.refund.domestic.refunds._refund_id_.applyAbnormalRefund.post(abnormal, { refund_id: refundId, headers }));
  ok('abnormal refund (e-commerce)', await wxpay.v3.ecommerce.refunds._refund_id_.applyAbnormalRefund.post(abnormal, { refund_id: refundId, headers }));
  ok('query refund', await wxpay.v3.refund.domestic.refunds._out_refund_no_.get({ out_refund_no: 'NODE-INTEROP-R1' }));

  // A tampered signature: a client whose key is not the merchant's signs
  // with the merchant's serial, so the signature cannot verify.
  const { generateKeyPairSync } = require('crypto');
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const forger = new Wechatpay({ mchid: fc.mchid, serial: fc.serial, privateKey: other, certs, baseURL: fc.base_url });
  try {
    await forger.v3.refund.domestic.refunds._out_refund_no_.get({ out_refund_no: 'NODE-INTEROP-R1' });
    throw new Error('tampered signature was accepted');
  } catch (e) {
    const st = e.response && e.response.status;
    const code = e.response && e.response.data && e.response.data.code;
    if (st !== 401 || code !== 'SIGN_ERROR') throw new Error(`tampered signature: got ${st} ${code}: ${e.message}`);
    console.log('  tampered request signature refused: 401 SIGN_ERROR');
  }
  fs.writeFileSync(path.join(dir, 'node-paths.json'), JSON.stringify(paths));
}

main(process.argv[2]).then(
  () => console.log('wechatpay-axios-plugin interop: ok'),
  (e) => { console.error('wechatpay-axios-plugin interop: FAIL:', e.message); process.exit(1); },
);
