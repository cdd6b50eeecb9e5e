package kuaidi100_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/minishop/minishop/internal/kuaidi100"
)

// The expected signatures were computed independently (Python's hashlib:
// hashlib.md5((param + salt).encode()).hexdigest().upper()).
func TestSign(t *testing.T) {
	param := `{"com":"yuantong","num":"YT6186594166532"}`
	for _, c := range []struct {
		parts []string
		want  string
	}{
		{[]string{param, "salt-123"}, "29F70B9087B4C8E16E719940E69706D6"},
		{[]string{param, "KEY", "CUST"}, "8558219C0816207E434F1B8A26036754"},
	} {
		if got := kuaidi100.Sign(c.parts...); got != c.want {
			t.Errorf("Sign(%q) = %s, want %s", c.parts, got, c.want)
		}
	}
}

func TestParsePush(t *testing.T) {
	param := `{"status":"polling","message":"","lastResult":{"state":"11","nu":"YT1","com":"yuantong","data":[{"time":"2026-11-30 10:00:00","ftime":"2026-11-30 10:00:00","context":"清关中","statusCode":"11"}]}}`
	sign := kuaidi100.Sign(param, "salt-123")
	p, err := kuaidi100.ParsePush(param, sign, "salt-123")
	if err != nil || p.Status != "polling" || p.LastResult.StateCode() != kuaidi100.StateCustomsClearing || !kuaidi100.IsCustoms(p.LastResult.StateCode()) {
		t.Fatalf("genuine push: %+v %v", p, err)
	}
	if at, ok := p.LastResult.Data[0].At(); !ok || at.UTC().Hour() != 2 {
		t.Errorf("trace time %v %v: want 10:00 China time = 02:00 UTC", at, ok)
	}
	if _, err := kuaidi100.ParsePush(param, strings.ToLower(sign), "salt-123"); err != nil {
		t.Errorf("lower-case sign refused: %v", err)
	}
	for name, c := range map[string][3]string{
		"no sign":      {param, "", "salt-123"},
		"other salt":   {param, sign, "salt-124"},
		"altered body": {strings.Replace(param, `"11"`, `"3"`, 1), sign, "salt-123"},
		"re-encoded":   {strings.ReplaceAll(param, `":"`, `": "`), sign, "salt-123"},
	} {
		if _, err := kuaidi100.ParsePush(c[0], c[1], c[2]); !errors.Is(err, kuaidi100.ErrBadSign) {
			t.Errorf("%s: %v, want ErrBadSign", name, err)
		}
	}
	bad := `{"lastResult":{}}`
	if _, err := kuaidi100.ParsePush(bad, kuaidi100.Sign(bad, "s"), "s"); err == nil || errors.Is(err, kuaidi100.ErrBadSign) {
		t.Errorf("push without status: %v", err)
	}
}

// FuzzParsePush: whatever Kuaidi100 (or anyone) posts, parsing never
// panics and never accepts a push whose sign is not over param and salt.
func FuzzParsePush(f *testing.F) {
	f.Add(`{"status":"polling","lastResult":{"state":"0","data":[]}}`, "", "salt")
	f.Add(`{"status":"abort","message":"3天查询无记录"}`, "X", "")
	f.Fuzz(func(t *testing.T, param, sign, salt string) {
		p, err := kuaidi100.ParsePush(param, sign, salt)
		if err == nil && !strings.EqualFold(sign, kuaidi100.Sign(param, salt)) {
			t.Fatalf("accepted a push with a wrong sign: %+v", p)
		}
		if err == nil {
			_ = p.LastResult.StateCode()
			for _, d := range p.LastResult.Data {
				d.At()
			}
		}
	})
}
