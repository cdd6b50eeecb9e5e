package openapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// The reference page: the document rendered server-side into one HTML page
// with its style inline and no script, font or image to fetch, so it reads
// the same offline, behind a firewall or from a file.

//go:embed docs.tmpl
var docsTemplate string

// maxDepth bounds how deep nested objects are unfolded in field tables.
const maxDepth = 4

type docsPage struct {
	Title, Version string
	Intro          template.HTML
	Servers        []serverView
	Schemes        []schemeView
	Groups         []groupView
	ErrorFields    []fieldView
	ErrorExample   string
	Schemas        []schemaView
	JSONPath       string
	Operations     int
}

type serverView struct {
	URL         string
	Description template.HTML
	Variables   []variableView
}

type variableView struct {
	Name, Default string
	Enum          []string
	Description   template.HTML
}

type schemeView struct {
	ID, Name, Kind string
	Description    template.HTML
}

type groupView struct {
	Name string
	Tags []tagView
}

type tagView struct {
	ID, Name    string
	Description template.HTML
	Ops         []opView
}

type opView struct {
	ID, Method, Path, Summary string
	Description               template.HTML
	Auth                      []authView
	Permission                string
	DevOnly                   bool
	Host                      string
	Params                    []paramView
	Body                      *bodyView
	Responses                 []respView
}

type authView struct {
	Name, Class, Anchor string
}

type paramView struct {
	Name, In, Type, TypeLink string
	Required                 bool
	Description              template.HTML
	Constraints              []string
}

type bodyView struct {
	MediaType   string
	Required    bool
	Description template.HTML
	Schema      schemaBlock
}

type respView struct {
	Status, Class string
	Description   template.HTML
	MediaTypes    []string
	IsError       bool
	Headers       []headerView
	Schema        *schemaBlock
	Example       string
}

type headerView struct {
	Name        string
	Required    bool
	Description template.HTML
}

// schemaBlock is a schema shown in place: its type, a link to its
// definition and its fields unfolded.
type schemaBlock struct {
	Type, Link string
	Fields     []fieldView
	Example    string
}

type fieldView struct {
	Parent, Name   string
	Depth          int
	Type, TypeLink string
	Required       bool
	Nullable       bool
	Description    template.HTML
	Constraints    []string
}

type schemaView struct {
	ID, Name    string
	Description template.HTML
	Type        string
	Fields      []fieldView
	Constraints []string
	Example     string
}

var docsPageHTML = sync.OnceValues(func() ([]byte, error) {
	doc, err := load(true)
	if err != nil {
		return nil, err
	}
	page := buildPage(doc)
	tmpl, err := template.New("docs").Funcs(template.FuncMap{
		"lower": strings.ToLower,
	}).Parse(docsTemplate)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, page); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
})

// DocsHTML returns the reference page (rendered once, then cached).
func DocsHTML() ([]byte, error) {
	b, err := docsPageHTML()
	return bytes.Clone(b), err
}

func buildPage(doc *openapi3.T) *docsPage {
	p := &docsPage{JSONPath: JSONPath}
	if doc.Info != nil {
		p.Title, p.Version = doc.Info.Title, doc.Info.Version
		p.Intro = markdown(doc.Info.Description)
	}
	for _, s := range doc.Servers {
		p.Servers = append(p.Servers, serverOf(s))
	}
	if doc.Components != nil {
		for _, name := range sortedKeys(doc.Components.SecuritySchemes) {
			ss := doc.Components.SecuritySchemes[name].Value
			if ss == nil {
				continue
			}
			kind := ss.Type
			switch ss.Type {
			case "apiKey":
				kind = "Cookie " + ss.Name
				if ss.In != "cookie" {
					kind = ss.In + " " + ss.Name
				}
			case "http":
				kind = "Authorization: " + titleCase(ss.Scheme) + " " + ss.BearerFormat
			}
			p.Schemes = append(p.Schemes, schemeView{ID: "auth-" + name, Name: schemeName(name), Kind: kind, Description: markdown(ss.Description)})
		}
	}

	// Operations by tag, in the document's order.
	type located struct {
		line int
		op   opView
	}
	byTag := map[string][]located{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			v := buildOp(doc, path, method, item, op)
			tag := "Other"
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			line := math.MaxInt
			if op.Origin != nil && op.Origin.Key != nil {
				line = op.Origin.Key.Line
			}
			byTag[tag] = append(byTag[tag], located{line, v})
			p.Operations++
		}
	}
	tags := map[string]*openapi3.Tag{}
	var tagOrder []string
	for _, t := range doc.Tags {
		tags[t.Name] = t
		tagOrder = append(tagOrder, t.Name)
	}
	for t := range byTag {
		if !slices.Contains(tagOrder, t) {
			tagOrder = append(tagOrder, t)
		}
	}
	tagView := func(name string) tagView {
		ops := byTag[name]
		slices.SortStableFunc(ops, func(a, b located) int {
			if a.line != b.line {
				return a.line - b.line
			}
			return strings.Compare(a.op.Path+a.op.Method, b.op.Path+b.op.Method)
		})
		v := tagView{ID: "tag-" + slug(name), Name: name}
		if t := tags[name]; t != nil {
			v.Description = markdown(t.Description)
		}
		for _, o := range ops {
			v.Ops = append(v.Ops, o.op)
		}
		return v
	}
	placed := map[string]bool{}
	if groups, ok := doc.Extensions["x-tagGroups"].([]any); ok {
		for _, g := range groups {
			m, _ := g.(map[string]any)
			name, _ := m["name"].(string)
			list, _ := m["tags"].([]any)
			gv := groupView{Name: name}
			for _, t := range list {
				if s, ok := t.(string); ok && len(byTag[s]) > 0 && !placed[s] {
					gv.Tags = append(gv.Tags, tagView(s))
					placed[s] = true
				}
			}
			if len(gv.Tags) > 0 {
				p.Groups = append(p.Groups, gv)
			}
		}
	}
	rest := groupView{Name: "More"}
	for _, t := range tagOrder {
		if !placed[t] && len(byTag[t]) > 0 {
			rest.Tags = append(rest.Tags, tagView(t))
		}
	}
	if len(rest.Tags) > 0 {
		p.Groups = append(p.Groups, rest)
	}

	if doc.Components != nil {
		if e := doc.Components.Schemas["Error"]; e != nil {
			p.ErrorFields = fieldsOf(e, "", 0, 0, nil)
			p.ErrorExample = exampleOf(e.Value.Example)
		}
		for _, name := range sortedKeys(doc.Components.Schemas) {
			ref := doc.Components.Schemas[name]
			s := ref.Value
			if s == nil {
				continue
			}
			v := schemaView{ID: "schema-" + name, Name: name, Description: markdown(s.Description), Example: exampleOf(s.Example)}
			v.Type, _ = typeOf(&openapi3.SchemaRef{Value: s})
			v.Fields = fieldsOf(&openapi3.SchemaRef{Value: s}, "", 0, 0, nil)
			if len(v.Fields) == 0 {
				v.Constraints = constraints(s)
			}
			p.Schemas = append(p.Schemas, v)
		}
	}
	return p
}

func buildOp(doc *openapi3.T, path, method string, item *openapi3.PathItem, op *openapi3.Operation) opView {
	v := opView{
		ID:          "op-" + opID(op, method, path),
		Method:      method,
		Path:        path,
		Summary:     op.Summary,
		Description: markdown(op.Description),
		DevOnly:     isDevOnly(op),
	}
	if perm, ok := op.Extensions["x-permission"].(string); ok {
		v.Permission = perm
	}
	servers := item.Servers
	if op.Servers != nil && len(*op.Servers) > 0 {
		servers = *op.Servers
	}
	if len(servers) > 0 {
		v.Host = servers[0].URL
	}
	security := doc.Security
	if op.Security != nil {
		security = *op.Security
	}
	optional := false
	for _, req := range security {
		if len(req) == 0 {
			optional = true
		}
		for _, name := range sortedKeys(req) {
			v.Auth = append(v.Auth, authView{Name: schemeName(name), Class: "auth", Anchor: "auth-" + name})
		}
	}
	switch {
	case len(v.Auth) == 0:
		v.Auth = []authView{{Name: "No credentials", Class: "auth public"}}
	case optional:
		for i := range v.Auth {
			v.Auth[i].Name += " (optional)"
		}
	}

	params := append(openapi3.Parameters{}, item.Parameters...)
	params = append(params, op.Parameters...)
	order := map[string]int{"path": 0, "query": 1, "header": 2, "cookie": 3}
	slices.SortStableFunc(params, func(a, b *openapi3.ParameterRef) int { return order[a.Value.In] - order[b.Value.In] })
	for _, pr := range params {
		pp := pr.Value
		if pp == nil {
			continue
		}
		pv := paramView{Name: pp.Name, In: pp.In, Required: pp.Required, Description: markdown(pp.Description)}
		if pp.Schema != nil {
			pv.Type, pv.TypeLink = typeOf(pp.Schema)
			pv.Constraints = constraints(resolve(pp.Schema))
		}
		v.Params = append(v.Params, pv)
	}

	if op.RequestBody != nil && op.RequestBody.Value != nil {
		rb := op.RequestBody.Value
		for _, mt := range sortedKeys(rb.Content) {
			media := rb.Content[mt]
			b := &bodyView{MediaType: mt, Required: rb.Required, Description: markdown(rb.Description)}
			if media.Schema != nil {
				b.Schema = blockOf(media.Schema, media.Example)
			}
			v.Body = b
			break
		}
	}

	if op.Responses != nil {
		for _, code := range statuses(op) {
			rr := op.Responses.Value(code)
			if rr == nil || rr.Value == nil {
				continue
			}
			r := rr.Value
			rv := respView{Status: code, Class: "s" + code[:1]}
			if r.Description != nil {
				rv.Description = markdown(*r.Description)
			}
			for _, name := range sortedKeys(r.Headers) {
				h := r.Headers[name].Value
				if h == nil {
					continue
				}
				rv.Headers = append(rv.Headers, headerView{Name: name, Required: h.Required, Description: markdown(h.Description)})
			}
			for _, mt := range sortedKeys(r.Content) {
				rv.MediaTypes = append(rv.MediaTypes, mt)
			}
			for _, mt := range sortedKeys(r.Content) {
				media := r.Content[mt]
				if media.Schema == nil {
					continue
				}
				if strings.HasSuffix(media.Schema.Ref, "/Error") {
					rv.IsError = true
					rv.Example = exampleOf(media.Example)
					break
				}
				b := blockOf(media.Schema, media.Example)
				rv.Schema = &b
				break
			}
			v.Responses = append(v.Responses, rv)
		}
	}
	return v
}

func blockOf(ref *openapi3.SchemaRef, example any) schemaBlock {
	b := schemaBlock{}
	b.Type, b.Link = typeOf(ref)
	// A schema of components/schemas shows its own fields; an inline one
	// (a page, a wrapper) also those of the schemas it holds.
	unfold := 1
	if refName(ref) != "" {
		unfold = 0
	}
	b.Fields = fieldsOf(ref, "", 0, unfold, nil)
	if example == nil {
		if s := resolve(ref); s != nil && ref.Ref == "" {
			example = s.Example
		}
	}
	b.Example = exampleOf(example)
	return b
}

// resolve returns the schema behind ref, looking through a lone allOf
// (the OpenAPI 3.0 way to make a reference nullable).
func resolve(ref *openapi3.SchemaRef) *openapi3.Schema {
	if ref == nil || ref.Value == nil {
		return nil
	}
	s := ref.Value
	if len(s.AllOf) == 1 && s.Type == nil && len(s.Properties) == 0 && s.AllOf[0].Value != nil {
		return s.AllOf[0].Value
	}
	return s
}

func refName(ref *openapi3.SchemaRef) string {
	if ref == nil {
		return ""
	}
	r := ref.Ref
	if r == "" && ref.Value != nil && len(ref.Value.AllOf) == 1 && ref.Value.Type == nil {
		r = ref.Value.AllOf[0].Ref
	}
	if name, ok := strings.CutPrefix(r, "#/components/schemas/"); ok {
		return name
	}
	return ""
}

func isObject(s *openapi3.Schema) bool {
	return s != nil && (s.Type.Is("object") || len(s.Properties) > 0)
}

// typeOf describes a schema in a few words and links to its definition.
func typeOf(ref *openapi3.SchemaRef) (string, string) {
	s := resolve(ref)
	if s == nil {
		return "any", ""
	}
	if name := refName(ref); name != "" {
		if isObject(s) || s.Type.Is("array") {
			return name, "schema-" + name
		}
		t, _ := typeOf(&openapi3.SchemaRef{Value: s})
		return t, "schema-" + name
	}
	switch {
	case s.Type.Is("array"):
		if s.Items == nil {
			return "array", ""
		}
		t, link := typeOf(s.Items)
		return "array of " + t, link
	case isObject(s):
		if ap := s.AdditionalProperties.Schema; ap != nil && len(s.Properties) == 0 {
			t, link := typeOf(ap)
			return "map of string → " + t, link
		}
		return "object", ""
	case s.Type == nil || len(*s.Type) == 0:
		return "any", ""
	}
	t := strings.Join(s.Type.Slice(), " | ")
	if s.Format != "" {
		t += " (" + s.Format + ")"
	}
	return t, ""
}

// fieldsOf unfolds the properties of an object schema (through arrays and
// maps of objects), in the document's order. Nested inline objects are
// unfolded up to maxDepth levels; a nested schema of components/schemas only
// while unfold > 0 (each one unfolded uses one), otherwise its type links to
// its definition.
func fieldsOf(ref *openapi3.SchemaRef, parent string, depth, unfold int, seen []*openapi3.Schema) []fieldView {
	s := resolve(ref)
	if s == nil || depth > maxDepth || slices.Contains(seen, s) {
		return nil
	}
	seen = append(seen, s)
	switch {
	case s.Type.Is("array") && s.Items != nil:
		return fieldsOf(s.Items, parent+"[].", depth, unfold, seen)
	case isObject(s) && len(s.Properties) == 0 && s.AdditionalProperties.Schema != nil:
		return fieldsOf(s.AdditionalProperties.Schema, parent+"{key}.", depth, unfold, seen)
	case !isObject(s):
		return nil
	}
	var out []fieldView
	for _, name := range propertyOrder(s) {
		pr := s.Properties[name]
		ps := resolve(pr)
		f := fieldView{Parent: parent, Name: name, Depth: depth, Required: slices.Contains(s.Required, name)}
		f.Type, f.TypeLink = typeOf(pr)
		if ps != nil {
			f.Nullable = ps.Nullable || (pr.Value != nil && pr.Value.Nullable)
			desc := ps.Description
			if pr.Value != nil && pr.Value.Description != "" {
				desc = pr.Value.Description // a description next to allOf wins
			}
			f.Description = markdown(desc)
			f.Constraints = constraints(ps)
		}
		out = append(out, f)
		next := unfold
		if nestedRef(pr) {
			if unfold == 0 {
				continue
			}
			next--
		}
		out = append(out, fieldsOf(pr, parent+name+".", depth+1, next, seen)...)
	}
	return out
}

// nestedRef reports whether a property's schema (or its items or values)
// is one of components/schemas.
func nestedRef(ref *openapi3.SchemaRef) bool {
	for ref != nil {
		if refName(ref) != "" {
			return true
		}
		s := ref.Value
		switch {
		case s == nil:
			return false
		case s.Type.Is("array"):
			ref = s.Items
		case len(s.Properties) == 0 && s.AdditionalProperties.Schema != nil:
			ref = s.AdditionalProperties.Schema
		default:
			return false
		}
	}
	return false
}

func propertyOrder(s *openapi3.Schema) []string {
	names := sortedKeys(s.Properties)
	line := func(n string) int {
		r := s.Properties[n]
		if r.Origin != nil && r.Origin.Key != nil {
			return r.Origin.Key.Line
		}
		if r.Ref == "" && r.Value != nil && r.Value.Origin != nil && r.Value.Origin.Key != nil {
			return r.Value.Origin.Key.Line
		}
		return math.MaxInt
	}
	slices.SortStableFunc(names, func(a, b string) int {
		la, lb := line(a), line(b)
		switch {
		case la < lb:
			return -1
		case la > lb:
			return 1
		}
		return strings.Compare(a, b)
	})
	return names
}

// constraints lists a schema's limits for people.
func constraints(s *openapi3.Schema) []string {
	if s == nil {
		return nil
	}
	var out []string
	if len(s.Enum) > 0 {
		vals := make([]string, 0, len(s.Enum))
		for _, e := range s.Enum {
			b, _ := json.Marshal(e)
			vals = append(vals, string(b))
		}
		out = append(out, "one of "+strings.Join(vals, ", "))
	}
	num := func(f *float64) string { return strconv.FormatFloat(*f, 'f', -1, 64) }
	switch {
	case s.Min != nil && s.Max != nil:
		out = append(out, num(s.Min)+" to "+num(s.Max))
	case s.Min != nil:
		out = append(out, "≥ "+num(s.Min))
	case s.Max != nil:
		out = append(out, "≤ "+num(s.Max))
	}
	switch {
	case s.MinLength > 0 && s.MaxLength != nil && *s.MaxLength == s.MinLength:
		out = append(out, fmt.Sprintf("exactly %d characters", s.MinLength))
	case s.MinLength > 0 && s.MaxLength != nil:
		out = append(out, fmt.Sprintf("%d to %d characters", s.MinLength, *s.MaxLength))
	case s.MinLength > 0:
		out = append(out, "not empty")
	case s.MaxLength != nil:
		out = append(out, fmt.Sprintf("at most %d characters", *s.MaxLength))
	}
	switch {
	case s.MinItems > 0 && s.MaxItems != nil:
		out = append(out, fmt.Sprintf("%d to %d items", s.MinItems, *s.MaxItems))
	case s.MinItems > 0:
		out = append(out, fmt.Sprintf("at least %d items", s.MinItems))
	case s.MaxItems != nil:
		out = append(out, fmt.Sprintf("at most %d items", *s.MaxItems))
	}
	if s.Pattern != "" {
		out = append(out, "pattern "+s.Pattern)
	}
	if s.Default != nil {
		b, _ := json.Marshal(s.Default)
		out = append(out, "default "+string(b))
	}
	return out
}

func exampleOf(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return ""
	}
	return string(b)
}

func serverOf(s *openapi3.Server) serverView {
	v := serverView{URL: s.URL, Description: markdown(s.Description)}
	for _, name := range sortedKeys(s.Variables) {
		sv := s.Variables[name]
		v.Variables = append(v.Variables, variableView{Name: name, Default: sv.Default, Enum: sv.Enum, Description: markdown(sv.Description)})
	}
	return v
}

func schemeName(name string) string {
	switch name {
	case "sessionCookie":
		return "Session cookie"
	case "apiToken":
		return "API token"
	case "customerToken":
		return "Customer token"
	}
	return name
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

func slug(s string) string {
	return strings.Trim(nonWord.ReplaceAllString(strings.ToLower(s), "-"), "-")
}

func opID(op *openapi3.Operation, method, path string) string {
	if op.OperationID != "" {
		return op.OperationID
	}
	return slug(method + " " + path)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// markdown renders the small subset of Markdown the document uses:
// paragraphs, "## " headings, "- " lists, `code`, **bold** and *emphasis*.
// Everything is escaped first, so descriptions cannot inject markup.
func markdown(src string) template.HTML {
	src = strings.TrimSpace(strings.ReplaceAll(src, "\r\n", "\n"))
	if src == "" {
		return ""
	}
	var b strings.Builder
	for _, block := range strings.Split(src, "\n\n") {
		block = strings.TrimSpace(block)
		if block == "" {
			continue
		}
		lines := strings.Split(block, "\n")
		switch {
		case strings.HasPrefix(block, "## "), strings.HasPrefix(block, "# "):
			b.WriteString("<h4>" + inline(strings.TrimLeft(lines[0], "# ")) + "</h4>")
			if len(lines) > 1 {
				b.WriteString("<p>" + inline(strings.Join(lines[1:], " ")) + "</p>")
			}
		case strings.HasPrefix(block, "- "):
			b.WriteString("<ul>")
			var item []string
			flush := func() {
				if len(item) > 0 {
					b.WriteString("<li>" + inline(strings.Join(item, " ")) + "</li>")
				}
				item = nil
			}
			for _, l := range lines {
				if t, ok := strings.CutPrefix(l, "- "); ok {
					flush()
					item = append(item, t)
				} else {
					item = append(item, strings.TrimSpace(l))
				}
			}
			flush()
			b.WriteString("</ul>")
		default:
			b.WriteString("<p>" + inline(strings.Join(lines, " ")) + "</p>")
		}
	}
	return template.HTML(b.String()) //nolint:gosec // every text went through html.EscapeString in inline
}

var (
	boldPattern = regexp.MustCompile(`\*\*([^*]+)\*\*`)
	emPattern   = regexp.MustCompile(`(^|[\s(])\*([^*\s][^*]*)\*`)
)

// inline escapes s and renders `code`, **bold** and *emphasis*.
func inline(s string) string {
	parts := strings.Split(s, "`")
	var b strings.Builder
	for i, part := range parts {
		esc := html.EscapeString(part)
		if i%2 == 1 && i < len(parts)-1 {
			b.WriteString("<code>" + esc + "</code>")
			continue
		}
		if i%2 == 1 { // an unmatched backtick
			b.WriteString("`")
		}
		esc = boldPattern.ReplaceAllString(esc, "<strong>$1</strong>")
		esc = emPattern.ReplaceAllString(esc, "$1<em>$2</em>")
		b.WriteString(esc)
	}
	return b.String()
}
