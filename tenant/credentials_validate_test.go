package tenant

import (
	"strings"
	"testing"
	"time"

	"github.com/minishop/minishop/internal/errs"
)

func fieldOf(err error) string {
	e := errs.As(err)
	if e == nil {
		return ""
	}
	d, _ := e.Details.(map[string]string)
	return d["field"]
}

func with(base values, changes map[string]any) values {
	out := values{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

const apiv3 = "0123456789abcdefABCDEF0123456789"

func TestValidateWeChatPay(t *testing.T) {
	f := PayFixtureFor(t)
	direct := values{}
	for k, v := range f.WeChatPaySet(apiv3) {
		direct[k] = v
	}
	cases := []struct {
		name    string
		v       values
		field   string // "" = valid
		message string // part of the message
	}{
		{"direct, public key mode, PKCS#8", direct, "", ""},
		{"PKCS#1 key", with(direct, map[string]any{"private_key_pem": f.KeyPKCS1}), "", ""},
		{"lower-case serial", with(direct, map[string]any{"cert_serial": strings.ToLower(f.Serial)}), "", ""},
		{"serial taken from the certificate", with(direct, map[string]any{"cert_serial": nil}), "", ""},
		{"serial with a leading zero", with(direct, map[string]any{"merchant_cert_pem": f.LeadingZeroCertPEM, "cert_serial": f.LeadingZeroSerial}), "", ""},
		{"platform certificate mode", with(direct, map[string]any{"public_key_id": nil, "public_key_pem": nil, "platform_certs_pem": f.PlatformCertPEM}), "", ""},
		{"platform serials given", with(direct, map[string]any{"public_key_id": nil, "public_key_pem": nil, "platform_certs_pem": f.PlatformCertPEM,
			"platform_serials": []string{strings.ToLower(f.PlatformSerial)}}), "", ""},
		{"partner", with(direct, map[string]any{"mode": "partner", "sub_mch_id": "1900000109", "sp_appid": "wx8888888888888888", "sub_appid": "wx1234567890abcdef"}), "", ""},
		{"global common mode", with(direct, map[string]any{"mode": "global"}), "", ""},
		{"global institutional", with(direct, map[string]any{"mode": "global", "sub_mch_id": "1900000109", "sp_appid": "wx8888888888888888"}), "", ""},

		{"no mode", with(direct, map[string]any{"mode": nil}), "mode", "required"},
		{"bad mode", with(direct, map[string]any{"mode": "service"}), "mode", "direct"},
		{"mch_id letters", with(direct, map[string]any{"mch_id": "19000x0001"}), "mch_id", "digits"},
		{"direct with sub_mch_id", with(direct, map[string]any{"sub_mch_id": "1900000109"}), "sub_mch_id", "partner or global"},
		{"partner without sub_mch_id", with(direct, map[string]any{"mode": "partner", "sp_appid": "wx8888888888888888"}), "sub_mch_id", "required"},
		{"partner without sp_appid", with(direct, map[string]any{"mode": "partner", "sub_mch_id": "1900000109"}), "sp_appid", "required"},
		{"global sp_appid without sub_mch_id", with(direct, map[string]any{"mode": "global", "sp_appid": "wx8888888888888888"}), "sp_appid", "institutional"},
		{"bad sub_appid", with(direct, map[string]any{"mode": "partner", "sub_mch_id": "1900000109", "sp_appid": "wx8888888888888888", "sub_appid": "wxNOTHEX"}), "sub_appid", "wx"},
		{"APIv3 key 31 bytes", with(direct, map[string]any{"apiv3_key": apiv3[:31]}), "apiv3_key", "32 bytes"},
		{"APIv3 key 33 bytes", with(direct, map[string]any{"apiv3_key": apiv3 + "x"}), "apiv3_key", "32 bytes"},
		{"no private key", with(direct, map[string]any{"private_key_pem": nil}), "private_key_pem", "required"},
		{"private key not PEM", with(direct, map[string]any{"private_key_pem": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"}), "private_key_pem", "PEM"},
		{"encrypted private key", with(direct, map[string]any{"private_key_pem": f.EncryptedKeyPEM}), "private_key_pem", "passphrase"},
		{"1024-bit key", with(direct, map[string]any{"private_key_pem": f.SmallKeyPKCS8}), "private_key_pem", "2048"},
		{"key of another certificate", with(direct, map[string]any{"private_key_pem": f.OtherKeyPKCS8}), "private_key_pem", "does not belong"},
		{"certificate is a key", with(direct, map[string]any{"merchant_cert_pem": f.KeyPKCS8}), "merchant_cert_pem", "certificates"},
		{"expired certificate", with(direct, map[string]any{"merchant_cert_pem": f.ExpiredCertPEM}), "merchant_cert_pem", "expired"},
		{"serial of another certificate", with(direct, map[string]any{"cert_serial": f.PlatformSerial}), "cert_serial", f.Serial},
		{"serial malformed", with(direct, map[string]any{"cert_serial": "477ED004"}), "cert_serial", "40 hexadecimal"},
		{"public key id malformed", with(direct, map[string]any{"public_key_id": "PUB_KEY_0000"}), "public_key_id", "PUB_KEY_ID_"},
		{"public key id without the key", with(direct, map[string]any{"public_key_pem": nil}), "public_key_pem", "required"},
		{"public key is a certificate", with(direct, map[string]any{"public_key_pem": f.CertPEM}), "public_key_pem", "PUBLIC KEY"},
		{"no way to verify WeChat Pay", with(direct, map[string]any{"public_key_id": nil, "public_key_pem": nil}), "public_key_id", "verified"},
		{"platform serial not in the certificates", with(direct, map[string]any{"platform_certs_pem": f.PlatformCertPEM, "platform_serials": []string{f.Serial}}),
			"platform_serials", "not the serial"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := with(c.v, nil)
			err := validateWeChatPay(v)
			if c.field == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				if s := v.str("cert_serial"); s != strings.ToUpper(s) || len(s) != 40 {
					t.Fatalf("cert_serial stored as %q", s)
				}
				return
			}
			if err == nil || fieldOf(err) != c.field || !strings.Contains(err.Error(), c.message) || !strings.HasPrefix(errs.As(err).Message, c.field+": ") {
				t.Fatalf("want an error on %s mentioning %q, got %v (field %q)", c.field, c.message, err, fieldOf(err))
			}
			if errs.KindOf(err) != errs.Invalid {
				t.Fatalf("kind %s", errs.KindOf(err))
			}
			// Never the value itself.
			for _, k := range []string{"apiv3_key", "private_key_pem"} {
				if s := c.v.str(k); len(s) > 8 && strings.Contains(err.Error(), s) {
					t.Fatalf("the error quotes %s", k)
				}
			}
		})
	}
	v := with(direct, map[string]any{"cert_serial": nil, "public_key_id": nil, "public_key_pem": nil, "platform_certs_pem": f.PlatformCertPEM})
	if err := validateWeChatPay(v); err != nil || v.str("cert_serial") != f.Serial || strings.Join(v.list("platform_serials"), ",") != f.PlatformSerial {
		t.Fatalf("derived serials: %v %q %v", err, v.str("cert_serial"), v.list("platform_serials"))
	}
}

func TestValidateOtherKinds(t *testing.T) {
	mp := values{"appid": "wx1234567890abcdef", "secret": "0123456789abcdef0123456789abcdef"}
	customs := values{"ebc_code": "3301960ABC", "ebc_name": "Nordic Skin AB", "ebp_code": "330196000000000ABC", "ebp_name": "Minishop",
		"customs_office": "HANGZHOU_ZS", "customs_mch_no": "3301960ABC", "trade_mode": "1210"}
	logistics := values{"kuaidi100_customer": "E1D7C1E8A13B31F2D0F5E7C2B2A8D8B4", "kuaidi100_key": "aBcDeFgH1234", "kuaidi100_salt": "salt-of-pushes"}
	cases := []struct {
		name     string
		validate func(values) error
		v        values
		field    string
	}{
		{"miniprogram", validateMiniProgram, mp, ""},
		{"appid upper-case", validateMiniProgram, with(mp, map[string]any{"appid": "wx1234567890ABCDEF"}), "appid"},
		{"appid short", validateMiniProgram, with(mp, map[string]any{"appid": "wx1234"}), "appid"},
		{"appid without wx", validateMiniProgram, with(mp, map[string]any{"appid": "ab1234567890abcdef"}), "appid"},
		{"secret short", validateMiniProgram, with(mp, map[string]any{"secret": "0123456789abcdef"}), "secret"},
		{"secret missing", validateMiniProgram, with(mp, map[string]any{"secret": nil}), "secret"},
		{"customs", validateCustoms, customs, ""},
		{"customs 9610 with agent key", validateCustoms, with(customs, map[string]any{"trade_mode": "9610", "agent_api_key": "agent-key-123456"}), ""},
		{"customs trade mode", validateCustoms, with(customs, map[string]any{"trade_mode": "1239"}), "trade_mode"},
		{"customs ebc 11 chars", validateCustoms, with(customs, map[string]any{"ebc_code": "3301960ABCD"}), "ebc_code"},
		{"customs ebp lower-case", validateCustoms, with(customs, map[string]any{"ebp_code": "330196000000000abc"}), "ebp_code"},
		{"customs office", validateCustoms, with(customs, map[string]any{"customs_office": "BEIJING"}), "customs_office"},
		{"customs name missing", validateCustoms, with(customs, map[string]any{"ebp_name": nil}), "ebp_name"},
		{"customs agent key short", validateCustoms, with(customs, map[string]any{"agent_api_key": "short"}), "agent_api_key"},
		{"logistics", validateLogistics, logistics, ""},
		{"logistics salt long", validateLogistics, with(logistics, map[string]any{"kuaidi100_salt": strings.Repeat("s", 33)}), "kuaidi100_salt"},
		{"logistics key missing", validateLogistics, with(logistics, map[string]any{"kuaidi100_key": nil}), "kuaidi100_key"},
	}
	for _, c := range cases {
		err := c.validate(with(c.v, nil))
		if (c.field == "") != (err == nil) || fieldOf(err) != c.field {
			t.Errorf("%s: got %v, want an error on %q", c.name, err, c.field)
		}
	}
}

func TestHints(t *testing.T) {
	for _, c := range []struct{ secret, last4 string }{
		{"0123456789abcdef0123456789abcdef", "cdef"},
		{"short-secret", ""}, // too short to show a part of
		{"-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----", ""},
	} {
		if h := hintOf(c.secret, time.Now()); !h.Set || h.Last4 != c.last4 {
			t.Errorf("hint of a %d-byte secret: %+v", len(c.secret), h)
		}
	}
}
