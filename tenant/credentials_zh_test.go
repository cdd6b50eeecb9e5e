package tenant

import (
	"context"
	"regexp"
	"testing"

	"github.com/minishop/minishop/internal/httpx"
)

// The credentials check's messages read in Chinese for a console in Chinese.
func TestVerificationInChinese(t *testing.T) {
	english := regexp.MustCompile(`(?i)\b(the|is|not|of|to|and|or|for|could|again)\b [a-z]{2,}`)
	msgs := []string{
		"the sandbox issued an access token for AppID wx1234567890abcdef",
		"WeChat does not know AppID wx1234567890abcdef (errcode 40013)",
		"WeChat refused the AppSecret for AppID wx1234567890abcdef (errcode 40125); copy it again from the Mini Program console, or reset it there",
		"format checked; live check not available yet",
		"the saved values no longer pass the format check: appid: is required",
		"WeChat could not be reached; verify again later (wechat: unavailable)",
	}
	o := &CredentialsOverview{Credentials: map[string]map[string]*CredentialSet{"live": {}}}
	for i, m := range msgs {
		o.Credentials["live"][string(rune('a'+i))] = &CredentialSet{Verification: &Verification{Message: m}}
	}
	localizeVerifications(context.Background(), o)
	for _, s := range o.Credentials["live"] {
		if !english.MatchString(s.Verification.Message) {
			t.Errorf("English request changed %q", s.Verification.Message)
		}
	}
	localizeVerifications(httpx.WithChinese(context.Background()), o)
	for _, s := range o.Credentials["live"] {
		if english.MatchString(s.Verification.Message) {
			t.Errorf("still English: %q", s.Verification.Message)
		}
	}
}
