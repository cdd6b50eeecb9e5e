package sandbox

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

func customsServer(t *testing.T) (*httptest.Server, *fakeClock) {
	t.Helper()
	clock := &fakeClock{t: start}
	s, err := New(Options{Seed: testSeed, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv, clock
}

// sample311 is the official CEB311 sample with its first order only.
func sample311(t *testing.T, mutate func(string) string) string {
	t.Helper()
	b, err := os.ReadFile("../../shop/testdata/customs/CEB311Message.xml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimPrefix(string(b), "\ufeff")
	// Keep one order: cut from the second <ceb:Order> to BaseTransfer.
	first := strings.Index(s, "<ceb:Order>")
	second := strings.Index(s[first+1:], "<ceb:Order>") + first + 1
	s = s[:second] + s[strings.Index(s, "<ceb:BaseTransfer>"):]
	if mutate != nil {
		s = mutate(s)
	}
	return s
}

type receipts312 struct {
	Returns []struct {
		GUID         string `xml:"guid"`
		OrderNo      string `xml:"orderNo"`
		ReturnStatus int    `xml:"returnStatus"`
		ReturnTime   string `xml:"returnTime"`
		ReturnInfo   string `xml:"returnInfo"`
	} `xml:"OrderReturn"`
}

func getReceipts(t *testing.T, srv *httptest.Server, orderNo string) receipts312 {
	t.Helper()
	resp, err := http.Get(srv.URL + "/customs-agent/v1/ceb312?ebcCode=1105910159&orderNo=" + orderNo)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var r receipts312
	if resp.StatusCode != 200 || xml.Unmarshal(b, &r) != nil {
		t.Fatalf("receipts: %d %s", resp.StatusCode, b)
	}
	return r
}

func post311(t *testing.T, srv *httptest.Server, doc string) (int, string) {
	t.Helper()
	resp, err := http.Post(srv.URL+"/customs-agent/v1/ceb311", "application/xml", strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestCustomsAgentReceiptsOverTime(t *testing.T) {
	srv, clock := customsServer(t)
	doc := sample311(t, nil)
	if st, body := post311(t, srv, doc); st != 200 || !strings.Contains(body, `"duplicate":false`) {
		t.Fatalf("declare: %d %s", st, body)
	}
	if st, body := post311(t, srv, doc); st != 200 || !strings.Contains(body, `"duplicate":true`) {
		t.Fatalf("same message again: %d %s", st, body)
	}
	const no = "order20160321116421002"
	want := [][]int{{2}, {2, 3}, {2, 3, 120}, {2, 3, 120}}
	for i, w := range want {
		r := getReceipts(t, srv, no)
		var got []int
		for _, x := range r.Returns {
			got = append(got, x.ReturnStatus)
			if len(x.ReturnTime) != 17 || x.GUID != "4CDE1CFD-EDED-46B1-946C-B8022E42FC94" {
				t.Errorf("receipt %+v", x)
			}
		}
		if len(got) != len(w) || got[len(got)-1] != w[len(w)-1] {
			t.Errorf("step %d: %v, want %v", i, got, w)
		}
		clock.Advance(time.Second)
	}
}

func TestCustomsAgentRejectsOnDemand(t *testing.T) {
	srv, clock := customsServer(t)
	const no = "order20160321116421002"
	resp, err := http.Post(srv.URL+"/sandbox/v1/customs/faults", "application/json", strings.NewReader(`{"order_no":"`+no+`","return_info":"支付人与订购人不一致","step_ms":0}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("fault: %v %v", err, resp)
	}
	resp.Body.Close()
	if st, body := post311(t, srv, sample311(t, nil)); st != 200 {
		t.Fatalf("declare: %d %s", st, body)
	}
	clock.Advance(time.Millisecond)
	r := getReceipts(t, srv, no)
	last := r.Returns[len(r.Returns)-1]
	if last.ReturnStatus != 100 || !strings.Contains(last.ReturnInfo, "支付人与订购人不一致") {
		t.Errorf("rejection: %+v", r.Returns)
	}
	// The fault is used up: the next declaration (a new guid) is accepted.
	if st, body := post311(t, srv, sample311(t, func(s string) string {
		return strings.ReplaceAll(s, "4CDE1CFD-EDED-46B1-946C-B8022E42FC94", "4CDE1CFD-EDED-46B1-946C-B8022E42FC95")
	})); st != 200 {
		t.Fatalf("redeclare: %d %s", st, body)
	}
	r = getReceipts(t, srv, no)
	if last := r.Returns[len(r.Returns)-1]; last.ReturnStatus != 120 || len(r.Returns) != 6 {
		t.Errorf("after redeclaring: %+v", r.Returns)
	}
}

func TestCustomsAgentValidates(t *testing.T) {
	srv, _ := customsServer(t)
	cases := map[string]func(string) string{
		"acturalPaid": func(s string) string {
			return strings.Replace(s, "<ceb:acturalPaid>19050</ceb:acturalPaid>", "<ceb:acturalPaid>19051</ceb:acturalPaid>", 1)
		},
		"buyerIdNumber": func(s string) string {
			return strings.Replace(s, "<ceb:buyerIdNumber>130681136250023332</ceb:buyerIdNumber>", "<ceb:buyerIdNumber></ceb:buyerIdNumber>", 1)
		},
		"currency": func(s string) string {
			return strings.Replace(s, "<ceb:currency>142</ceb:currency>", "<ceb:currency>840</ceb:currency>", 1)
		},
		"guid": func(s string) string {
			return strings.Replace(s, `guid="4CDE1CFD-EDED-46B1-946C-B8022E42FC94"`, `guid="abc"`, 1)
		},
		"not xml":    func(string) string { return "<ceb:CEB311Message" },
		"other root": func(string) string { return `<CEB411Message xmlns="http://www.chinaport.gov.cn/ceb"/>` },
	}
	for name, mutate := range cases {
		if st, body := post311(t, srv, sample311(t, mutate)); st != 400 {
			t.Errorf("%s: %d %s", name, st, body)
		}
	}
	// The official sample itself (goodsValue 14000 = 2000 + 12000, its lines) is accepted.
	if st, body := post311(t, srv, sample311(t, nil)); st != 200 {
		t.Errorf("sample: %d %s", st, body)
	}
}
