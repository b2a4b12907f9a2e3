package webhook

import (
	"encoding/json"
	"testing"
)

// Any body with any content type parses to JSON-encodable data or an error,
// never a panic (JSON, form, XML, multipart, raw).
func FuzzParseBody(f *testing.F) {
	f.Add("application/json", []byte(`{"a":[1,2,{"b":null}]}`))
	f.Add("application/x-www-form-urlencoded", []byte("a=1&a=2&b=%ZZ"))
	f.Add("application/xml", []byte(`<order id="1"><item sku="x">2</item><item/></order>`))
	f.Add("multipart/form-data; boundary=xx", []byte("--xx\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--xx--\r\n"))
	f.Add("text/plain", []byte("\xff\xfe hello"))
	f.Add("", []byte(`[[[[[[[[[[]]]]]]]]]]`))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		v, err := parseBody(contentType, body)
		if err != nil {
			return
		}
		if _, err := json.Marshal(v); err != nil {
			t.Fatalf("parsed body of %q is not JSON-encodable: %v", contentType, err)
		}
	})
}
