package sandbox

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type agentReceipts struct {
	Returns []struct {
		GUID         string `xml:"guid"`
		ReturnStatus int    `xml:"returnStatus"`
		ReturnTime   string `xml:"returnTime"`
		ReturnInfo   string `xml:"returnInfo"`
	} `xml:",any"`
}

// getDoc fetches the agent's receipts of one document (ceb312, ceb512 or
// ceb622) and checks the document against the official schema.
func getDoc(t *testing.T, srv *httptest.Server, msg, orderNo string) (statuses []int, r agentReceipts) {
	t.Helper()
	resp, err := http.Get(srv.URL + "/customs-agent/v1/" + msg + "?ebcCode=1105910159&orderNo=" + orderNo)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || xml.Unmarshal(b, &r) != nil {
		t.Fatalf("%s: %d %s", msg, resp.StatusCode, b)
	}
	for _, x := range r.Returns {
		statuses = append(statuses, x.ReturnStatus)
		if len(x.ReturnTime) != 17 || len(x.GUID) != 36 || strings.ToUpper(x.GUID) != x.GUID {
			t.Errorf("%s receipt %+v", msg, x)
		}
	}
	if len(r.Returns) > 0 {
		validateAgainstXSD(t, b)
	}
	return statuses, r
}

func validateAgainstXSD(t *testing.T, doc []byte) {
	t.Helper()
	lint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatal("xmllint is needed to validate customs receipts against the official XSD: run scripts/ensure-tools.sh xmllint (Debian package libxml2-utils)")
	}
	f := filepath.Join(t.TempDir(), "receipt.xml")
	if err := os.WriteFile(f, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(lint, "--noout", "--nonet", "--schema", "../../shop/testdata/customs/ceb-import-202205.xsd", f).CombinedOutput(); err != nil {
		t.Errorf("receipt not valid against the CEB schema: %s\n%s", out, doc)
	}
}

func agentFault(t *testing.T, srv *httptest.Server, body string) int {
	t.Helper()
	resp, err := http.Post(srv.URL+"/sandbox/v1/customs/faults", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func agentSame(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// After customs accepts the order (step 2), the agent's waybill and
// inventory list get their receipts over time: waybill 2, 120; inventory
// 2, 120, 800. Every receipt document is valid against the official XSD.
func TestCustomsAgentWaybillAndInventory(t *testing.T) {
	srv, clock := customsServer(t)
	const no = "order20160321116421002"
	if st, body := post311(t, srv, sample311(t, nil)); st != 200 {
		t.Fatalf("declare: %d %s", st, body)
	}
	want := []struct{ order, waybill, inventory []int }{
		{[]int{2}, nil, nil},
		{[]int{2, 3}, nil, nil},
		{[]int{2, 3, 120}, nil, nil},
		{[]int{2, 3, 120}, []int{2}, []int{2}},
		{[]int{2, 3, 120}, []int{2, 120}, []int{2, 120}},
		{[]int{2, 3, 120}, []int{2, 120}, []int{2, 120, 800}},
		{[]int{2, 3, 120}, []int{2, 120}, []int{2, 120, 800}},
	}
	var guids []string
	for i, w := range want {
		o, _ := getDoc(t, srv, "ceb312", no)
		wb, wr := getDoc(t, srv, "ceb512", no)
		iv, ir := getDoc(t, srv, "ceb622", no)
		if !agentSame(o, w.order) || !agentSame(wb, w.waybill) || !agentSame(iv, w.inventory) {
			t.Errorf("step %d: order %v waybill %v inventory %v, want %v", i, o, wb, iv, w)
		}
		if i == len(want)-1 {
			guids = []string{wr.Returns[0].GUID, ir.Returns[0].GUID}
		}
		clock.Advance(time.Second)
	}
	if guids[0] == guids[1] || guids[0] == "4CDE1CFD-EDED-46B1-946C-B8022E42FC94" {
		t.Errorf("waybill and inventory guids: %v", guids)
	}
}

// Faults: an inventory list rejected, a waybill failing, a parcel
// detained, an order declaration nobody answers, and one the e-port fails
// to pass on; bad faults are refused.
func TestCustomsAgentDocumentFaults(t *testing.T) {
	srv, clock := customsServer(t)
	const no = "order20160321116421002"
	if st := agentFault(t, srv, `{"order_no":"`+no+`","document":"inventory","return_info":"三单信息不一致","step_ms":0}`); st != 200 {
		t.Fatalf("fault: %d", st)
	}
	if st := agentFault(t, srv, `{"order_no":"`+no+`","document":"waybill","return_status":4,"return_info":"传输失败"}`); st != 200 {
		t.Fatalf("fault: %d", st)
	}
	post311(t, srv, sample311(t, nil))
	clock.Advance(time.Millisecond)
	if o, _ := getDoc(t, srv, "ceb312", no); !agentSame(o, []int{2, 3, 120}) {
		t.Errorf("order: %v", o)
	}
	if w, _ := getDoc(t, srv, "ceb512", no); !agentSame(w, []int{2, 4}) {
		t.Errorf("waybill: %v", w)
	}
	iv, r := getDoc(t, srv, "ceb622", no)
	if !agentSame(iv, []int{2, 120, 100}) || !strings.Contains(r.Returns[2].ReturnInfo, "三单信息不一致") {
		t.Errorf("inventory: %v %+v", iv, r.Returns)
	}

	// The order's next declaration is never answered; nothing else follows.
	const silent = "order-silent-1"
	other := func(s string) string {
		s = strings.ReplaceAll(s, "order20160321116421002", silent)
		return strings.ReplaceAll(s, "4CDE1CFD-EDED-46B1-946C-B8022E42FC94", "4CDE1CFD-EDED-46B1-946C-B8022E42FC99")
	}
	agentFault(t, srv, `{"order_no":"`+silent+`","silent":true}`)
	post311(t, srv, sample311(t, other))
	clock.Advance(time.Minute)
	for _, m := range []string{"ceb312", "ceb512", "ceb622"} {
		if got, _ := getDoc(t, srv, m, silent); len(got) != 0 {
			t.Errorf("%s of an unanswered declaration: %v", m, got)
		}
	}

	// The e-port fails to pass it to customs (4): no waybill nor inventory.
	const lost = "order-lost-1"
	agentFault(t, srv, `{"order_no":"`+lost+`","return_status":4,"return_info":"网络超时"}`)
	post311(t, srv, sample311(t, func(s string) string {
		s = strings.ReplaceAll(s, "order20160321116421002", lost)
		return strings.ReplaceAll(s, "4CDE1CFD-EDED-46B1-946C-B8022E42FC94", "4CDE1CFD-EDED-46B1-946C-B8022E42FC98")
	}))
	clock.Advance(time.Millisecond)
	if o, _ := getDoc(t, srv, "ceb312", lost); !agentSame(o, []int{2, 4}) {
		t.Errorf("order lost in transit: %v", o)
	}
	if iv, _ := getDoc(t, srv, "ceb622", lost); len(iv) != 0 {
		t.Errorf("inventory of an order customs never got: %v", iv)
	}

	for _, bad := range []string{
		`{"order_no":"x","document":"parcel"}`,
		`{"order_no":"x","document":"waybill","silent":true}`,
		`{"order_no":"x","return_status":800}`,
		`{"order_no":"x","document":"waybill","return_status":501}`,
		`{}`,
	} {
		if st := agentFault(t, srv, bad); st != 400 {
			t.Errorf("%s: %d", bad, st)
		}
	}
	if resp, err := http.Get(srv.URL + "/customs-agent/v1/ceb622?orderNo=x"); err != nil || resp.StatusCode != 400 {
		t.Errorf("no ebcCode: %v %v", err, resp)
	}
}

// An order split into customs orders (out_trade_no-1, -2) is declared,
// answered and faulted per customs order: a fault for -2's inventory list
// leaves -1's documents alone, and the order's own number has nothing.
func TestCustomsAgentSplitOrderFaults(t *testing.T) {
	srv, clock := customsServer(t)
	const base = "order20160321116421002"
	sub := func(n, guid string) func(string) string {
		return func(s string) string {
			s = strings.ReplaceAll(s, "<ceb:orderNo>"+base+"</ceb:orderNo>", "<ceb:orderNo>"+base+"-"+n+"</ceb:orderNo>")
			return strings.ReplaceAll(s, "4CDE1CFD-EDED-46B1-946C-B8022E42FC94", guid)
		}
	}
	if st := agentFault(t, srv, `{"order_no":"`+base+`-2","document":"inventory","return_info":"商品备案信息不存在","step_ms":0}`); st != 200 {
		t.Fatalf("fault: %d", st)
	}
	for n, guid := range map[string]string{"1": "4CDE1CFD-EDED-46B1-946C-B8022E42FC81", "2": "4CDE1CFD-EDED-46B1-946C-B8022E42FC82"} {
		if st, body := post311(t, srv, sample311(t, sub(n, guid))); st != 200 {
			t.Fatalf("declare -%s: %d %s", n, st, body)
		}
	}
	clock.Advance(time.Millisecond)
	for _, c := range []struct {
		no        string
		inventory []int
	}{{base + "-1", []int{2, 120, 800}}, {base + "-2", []int{2, 120, 100}}} {
		if o, _ := getDoc(t, srv, "ceb312", c.no); !agentSame(o, []int{2, 3, 120}) {
			t.Errorf("order %s: %v", c.no, o)
		}
		if iv, _ := getDoc(t, srv, "ceb622", c.no); !agentSame(iv, c.inventory) {
			t.Errorf("inventory %s: %v, want %v", c.no, iv, c.inventory)
		}
	}
	if o, _ := getDoc(t, srv, "ceb312", base); len(o) != 0 {
		t.Errorf("the order's own number: %v", o)
	}
}
