// Package wechatpay is Minishop's client for WeChat Pay API v3: JSAPI
// (Mini Program) payments for ordinary merchants, service providers acting
// for a sub-merchant, and WeChat Pay Global; order query and close; refunds;
// platform certificates; and the payment and refund notifications WeChat Pay
// posts back. It implements the protocol with the standard library only:
// requests are signed WECHATPAY2-SHA256-RSA2048 with the merchant's API key,
// answers and notifications are verified against the WeChat Pay platform
// certificates and/or the WeChat Pay public key, and notification resources
// are decrypted with AES-256-GCM under the APIv3 key.
//
// The same client talks to api.mch.weixin.qq.com, apihk.mch.weixin.qq.com
// and internal/sandbox: signatures cover the path and query, never the host.
//
// Errors come in three classes, told apart with errors.Is / errors.As:
//   - *APIError: WeChat Pay's answer to the request (a non-2xx status with a
//     JSON {"code","message"} body, such as ORDER_NOT_EXIST).
//   - ErrUnavailable: no trustworthy answer was obtained (transport failure,
//     timeout, 5xx, a body that is not WeChat Pay's JSON). Retry later; for
//     calls that change state, query before acting on the outcome.
//   - ErrInvalidSignature: an answer or notification that does not
//     authenticate (missing headers, unknown serial, timestamp outside five
//     minutes, signature probe, bad signature). Never act on it.
//
// No error, log value or String result of this package contains the
// merchant's private key or the APIv3 key.
package wechatpay
