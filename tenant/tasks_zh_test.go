package tenant

import (
	"context"
	"regexp"
	"testing"

	"github.com/minishop/minishop/internal/httpx"
)

// A failed task reads in Chinese for a console in Chinese: its label, its
// message and its error when the catalogs know it; English otherwise.
func TestFailedTasksInChinese(t *testing.T) {
	english := regexp.MustCompile(`(?i)\b(the|on|our|is|are|not|of|to|and|or|no|be)\b [a-z]{2,}`)
	page := &TaskPage{Tasks: []Task{
		{Kind: "customs.declare_order", Label: "customs declaration", Error: "the customs declaration agent refused the declaration: 报文结构错误"},
		{Kind: "x", Label: "background task", Error: "an unexpected error on our side (reference task 7)"},
		{Kind: "logistics.upload_shipping", Label: "shipping-info upload", Error: "the order has no parcel to upload"},
	}}
	for i := range page.Tasks {
		page.Tasks[i].Message = page.Tasks[i].Label + " failed: " + page.Tasks[i].Error
	}
	zh := localizedTasks(httpx.WithChinese(context.Background()), page)
	for i, x := range zh.Tasks {
		for _, s := range []string{x.Label, x.Message, x.Error} {
			if english.MatchString(s) || s == "" {
				t.Errorf("task %d: %q stayed English", i, s)
			}
		}
	}
	if zh.Tasks[1].Error != "我方出现意外错误（任务编号 7）" || zh.Tasks[0].Message != "海关申报失败：报关代理拒绝了申报：报文结构错误" {
		t.Errorf("%+v", zh.Tasks)
	}
	if en := localizedTasks(context.Background(), page); en != page || page.Tasks[0].Label != "customs declaration" {
		t.Error("an English request keeps the page as it is")
	}
}
