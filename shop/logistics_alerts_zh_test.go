package shop

import (
	"context"
	"regexp"
	"testing"

	"github.com/minishop/minishop/internal/httpx"
)

// The alerts' own sentences, and the upload and tracking errors they quote,
// read in Chinese for a client that prefers it; English otherwise.
func TestLogisticsAlertsInChinese(t *testing.T) {
	english := regexp.MustCompile(`(?i)\b(the|is|are|was|not|has|have|of|to|and|or|no|be|will)\b [a-z]{2,}`)
	msgs := []string{
		"the order shipped but its shipping information was never uploaded to WeChat; the payment stays frozen",
		"the shipping information upload to WeChat failed",
		"not uploaded yet (2 tries): the shipping information is not at WeChat yet",
		"not uploaded yet (3 tries): WeChat is not reachable; the upload will be retried",
		"not uploaded yet (1 tries): 系统繁忙",
		"the shipping information could not be uploaded",
		"Kuaidi100 refused the subscription (600: 您的账号已停用); the parcel is tracked by queries",
		"the tracking subscription will be retried: Kuaidi100 is not reachable",
		"Kuaidi100 query refused (501: 服务器错误)",
		errTrackingNotConfigured.Message,
	}
	in := make([]LogisticsAlert, len(msgs))
	for i, m := range msgs {
		in[i] = LogisticsAlert{Kind: AlertUploadFailed, Message: m}
	}
	zh := localizedAlerts(httpx.WithChinese(context.Background()), in)
	for i, a := range zh {
		if english.MatchString(a.Message) || a.Message == msgs[i] {
			t.Errorf("%q stayed English: %q", msgs[i], a.Message)
		}
	}
	for i, a := range localizedAlerts(context.Background(), in) {
		if a.Message != msgs[i] {
			t.Errorf("English request changed %q to %q", msgs[i], a.Message)
		}
	}
	if in[0].Message != msgs[0] {
		t.Error("the alerts given must not change")
	}
}
