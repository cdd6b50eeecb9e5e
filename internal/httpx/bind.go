package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/gin-gonic/gin/binding"
	"github.com/go-playground/validator/v10"

	"github.com/minishop/minishop/internal/errs"
)

// Bind decodes the JSON body into v strictly (unknown fields, trailing data,
// wrong types and a wrong Content-Type are refused with a message naming the
// problem) and then runs the `binding` validator tags. The body is already
// capped by the BodyLimit middleware.
func Bind(c *gin.Context, v any) error {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return errs.L(errs.Invalid, "unsupported_media_type", "send the body as application/json", "请求体须为 application/json")
		}
	}
	if err := DecodeJSON(c.Request.Body, v); err != nil {
		return err
	}
	useJSONNames()
	if err := binding.Validator.ValidateStruct(v); err != nil {
		return validationError(err)
	}
	return nil
}

// DecodeJSON decodes exactly one JSON value from r into v, refusing unknown
// fields. Errors are *errs.Error of kind Invalid (or TooLarge).
func DecodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return errs.L(errs.Invalid, "invalid_json", "the body must hold exactly one JSON value", "请求体须为恰好一个 JSON 值")
	}
	// Trailing bytes after the value (other than whitespace) are refused too.
	rest, err := io.ReadAll(io.LimitReader(dec.Buffered(), 1024))
	if err == nil && len(bytes.TrimSpace(rest)) > 0 {
		return errs.L(errs.Invalid, "invalid_json", "unexpected data after the JSON value", "JSON 值之后有多余的数据")
	}
	return nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return errs.Errorf(errs.TooLarge, "request body is larger than %d bytes", mbe.Limit).WithZH(fmt.Sprintf("请求体超过 %d 字节", mbe.Limit))
	case errors.Is(err, io.EOF):
		return errs.L(errs.Invalid, "invalid_json", "the request body is empty; send a JSON object", "请求体为空，请发送一个 JSON 对象")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errs.L(errs.Invalid, "invalid_json", "the JSON body ends too early", "JSON 请求体不完整")
	case errors.As(err, &syn):
		return errs.E(errs.Invalid, "invalid_json", fmt.Sprintf("malformed JSON at byte %d: %s", syn.Offset, syn.Error()))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return errs.E(errs.Invalid, "invalid_json", fmt.Sprintf("the body must be a JSON %s, not %s", typ.Type.Kind(), typ.Value))
		}
		return errs.E(errs.Invalid, "invalid_field", fmt.Sprintf("field %q must be %s, not %s", field, kindName(typ.Type.Kind().String()), typ.Value)).
			WithDetails(map[string]string{"field": field}).
			WithZH(fmt.Sprintf("字段 %q 须为%s，而不是 %s", field, kindNameZH(typ.Type.Kind().String()), typ.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return errs.E(errs.Invalid, "unknown_field", fmt.Sprintf("unknown field %q", field)).
			WithDetails(map[string]string{"field": field}).WithZH(fmt.Sprintf("未知字段 %q", field))
	default:
		return errs.E(errs.Invalid, "invalid_json", "malformed JSON: "+err.Error())
	}
}

func kindName(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"), strings.HasPrefix(k, "float"):
		return "a number"
	case k == "string":
		return "a string"
	case k == "bool":
		return "true or false"
	case k == "slice", k == "array":
		return "an array"
	default:
		return "an object"
	}
}

func kindNameZH(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"), strings.HasPrefix(k, "float"):
		return "数字"
	case k == "string":
		return "字符串"
	case k == "bool":
		return " true 或 false"
	case k == "slice", k == "array":
		return "数组"
	default:
		return "对象"
	}
}

func validationError(err error) error {
	var ve validator.ValidationErrors
	if !errors.As(err, &ve) || len(ve) == 0 {
		return errs.E(errs.Invalid, "invalid", err.Error())
	}
	fields := make([]map[string]string, 0, len(ve))
	msgs := make([]string, 0, len(ve))
	zh := make([]string, 0, len(ve))
	for _, fe := range ve {
		name := jsonName(fe)
		var m, z string
		switch fe.Tag() {
		case "required":
			m, z = fmt.Sprintf("field %q is required", name), fmt.Sprintf("字段 %q 为必填", name)
		case "min", "gte":
			m, z = fmt.Sprintf("field %q must be at least %s", name, fe.Param()), fmt.Sprintf("字段 %q 至少为 %s", name, fe.Param())
		case "max", "lte":
			m, z = fmt.Sprintf("field %q must be at most %s", name, fe.Param()), fmt.Sprintf("字段 %q 最多为 %s", name, fe.Param())
		case "gt":
			m, z = fmt.Sprintf("field %q must be greater than %s", name, fe.Param()), fmt.Sprintf("字段 %q 须大于 %s", name, fe.Param())
		case "lt":
			m, z = fmt.Sprintf("field %q must be less than %s", name, fe.Param()), fmt.Sprintf("字段 %q 须小于 %s", name, fe.Param())
		case "email":
			m, z = fmt.Sprintf("field %q must be an email address", name), fmt.Sprintf("字段 %q 须为邮箱地址", name)
		case "oneof":
			m, z = fmt.Sprintf("field %q must be one of: %s", name, fe.Param()), fmt.Sprintf("字段 %q 须为以下之一：%s", name, fe.Param())
		default:
			m, z = fmt.Sprintf("field %q fails the %q rule", name, fe.Tag()), fmt.Sprintf("字段 %q 不符合 %q 规则", name, fe.Tag())
		}
		msgs, zh = append(msgs, m), append(zh, z)
		fields = append(fields, map[string]string{"field": name, "rule": fe.Tag()})
	}
	return errs.E(errs.Invalid, "invalid_field", strings.Join(msgs, "; ")).WithDetails(fields).WithZH(strings.Join(zh, "；"))
}

// jsonName is the field as the client wrote it: the validator reports JSON
// names once useJSONNames has run.
func jsonName(fe validator.FieldError) string { return fe.Field() }

var jsonNamesOnce sync.Once

// useJSONNames makes gin's validator report fields by their JSON names.
func useJSONNames() {
	jsonNamesOnce.Do(func() {
		if v, ok := binding.Validator.Engine().(*validator.Validate); ok {
			v.RegisterTagNameFunc(func(f reflect.StructField) string {
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if name == "" || name == "-" {
					return f.Name
				}
				return name
			})
		}
	})
}
