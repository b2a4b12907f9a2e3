package formdef

import (
	"html/template"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// Data is what a rendered form shows besides its definition.
type Data struct {
	// Values fill the inputs: Initial(def, query) when the page opens, the
	// posted form after a failed submit (so nothing typed is lost).
	Values url.Values
	// Errors are Parse's messages by field key.
	Errors map[string]string
	// Problem is a message about the whole submission (such as "could not
	// be saved, try again"), shown at the top.
	Problem string
}

// Render writes the form page: a self-contained, accessible HTML document
// (inline CSS, no JavaScript) whose form posts back to the page's own URL.
// Every input has a bound label; help and error texts are tied to it with
// aria-describedby; invalid inputs carry aria-invalid; an error summary at the
// top links to each invalid field and takes the focus when the page loads.
func Render(w io.Writer, d Definition, data Data) error {
	v := pageView{Title: title(d), Description: paragraphs(d.Description), Submit: d.SubmitLabel,
		Honeypot: d.Honeypot(), Problem: data.Problem}
	if v.Submit == "" {
		v.Submit = "Submit"
	}
	for i := range d.Fields {
		f := &d.Fields[i]
		fv := newFieldView(f, data.Values, data.Errors[f.Key])
		if fv.Error != "" {
			v.Summary = append(v.Summary, summaryItem{Anchor: fv.Anchor, Label: f.label(), Message: fv.Error})
		}
		v.Fields = append(v.Fields, fv)
	}
	v.HasErrors = len(v.Summary) > 0 || v.Problem != ""
	v.PageTitle = v.Title
	if v.HasErrors {
		v.PageTitle = "Error: " + v.Title
	}
	return pages.ExecuteTemplate(w, "form", v)
}

// RenderSuccess writes the page shown after a valid submission.
func RenderSuccess(w io.Writer, d Definition) error {
	return pages.ExecuteTemplate(w, "notice", noticeView{Title: title(d), Message: paragraphs(d.SuccessMessage()), Status: true})
}

// RenderNotice writes a plain page with a heading and a message, for
// answers such as "not found" or "too many submissions".
func RenderNotice(w io.Writer, heading, message string) error {
	return pages.ExecuteTemplate(w, "notice", noticeView{Title: heading, Message: paragraphs(message)})
}

func title(d Definition) string {
	if strings.TrimSpace(d.Title) != "" {
		return d.Title
	}
	return "Form"
}

// paragraphs splits text on blank lines; single line breaks are kept by CSS.
func paragraphs(s string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

type pageView struct {
	PageTitle   string // the document title: "Error: " first when there are errors
	Title       string
	Description []string
	Submit      string
	Honeypot    string
	Problem     string
	Fields      []fieldView
	Summary     []summaryItem
	HasErrors   bool
}

type summaryItem struct {
	Anchor  string // id of the input to jump to ("" for hidden fields)
	Label   string
	Message string
}

type fieldView struct {
	Key, Type, Label, Help, Error string
	ID                            string // the input's id (a radio group's first input)
	Anchor                        string
	HelpID, ErrorID               string
	DescribedBy                   string
	Required                      bool
	Value                         string
	Checked                       bool
	Options                       []optionView
	InputMode, Autocomplete       string
	MinLength, MaxLength          int
	Min, Max                      string // date inputs only: the picker's range
}

type optionView struct {
	ID, Value, Label string
	Selected         bool
}

func newFieldView(f *Field, values url.Values, msg string) fieldView {
	kind := f.kind()
	id := "f-" + f.Key
	fv := fieldView{Key: f.Key, Type: kind, Label: f.label(), Help: f.Help, Error: msg, ID: id, Anchor: id,
		Required: f.Required, Value: values.Get(f.Key), MinLength: f.MinLength, MaxLength: f.MaxLength}
	var desc []string
	if f.Help != "" {
		fv.HelpID = id + "-help"
		desc = append(desc, fv.HelpID)
	}
	if msg != "" {
		fv.ErrorID = id + "-error"
		desc = append(desc, fv.ErrorID)
	}
	fv.DescribedBy = strings.Join(desc, " ")
	switch kind {
	case TypeEmail:
		fv.InputMode, fv.Autocomplete = "email", "email"
	case TypeNumber:
		// A text input with a numeric keyboard: the browser keeps what was
		// typed, so the server's message refers to what the person sees.
		fv.InputMode = "decimal"
	case TypeDate:
		if f.Min != nil && f.Min.Number == nil {
			fv.Min = f.Min.Date
		}
		if f.Max != nil && f.Max.Number == nil {
			fv.Max = f.Max.Date
		}
	case TypeCheckbox:
		fv.Checked = checked(fv.Value)
	case TypeSelect, TypeRadio:
		for j, o := range f.Options {
			ov := optionView{Value: o.Value, Label: o.label(), Selected: o.Value == fv.Value}
			if kind == TypeRadio {
				ov.ID = id + "-" + strconv.Itoa(j)
			}
			fv.Options = append(fv.Options, ov)
		}
		if kind == TypeRadio && len(fv.Options) > 0 {
			fv.Anchor = fv.Options[0].ID
		}
	case TypeHidden:
		fv.Anchor = ""
	}
	return fv
}

type noticeView struct {
	Title   string
	Message []string
	Status  bool // a success page: announced as a status message
}

const css = `
*,*::before,*::after{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;font-size:100%;line-height:1.5;color:#1b1b1f;background:#f3f4f6}
body{margin:0;padding:2rem 1rem}
main{max-width:40rem;margin:0 auto;background:#fff;border:1px solid #d0d4da;border-radius:.5rem;padding:2rem 1.5rem}
h1{font-size:1.75rem;line-height:1.25;margin:0 0 1rem}
h2{font-size:1.2rem;margin:0 0 .5rem}
p{margin:0 0 1rem;white-space:pre-line}
.field{margin:0 0 1.5rem;padding:0;border:0}
.field.invalid{border-left:4px solid #b3261e;padding-left:.9rem}
label,legend{display:block;font-weight:600;margin:0 0 .25rem;padding:0}
.optional{font-weight:400;color:#4a4f57}
.help{display:block;color:#4a4f57;margin:0 0 .35rem;font-size:.95rem}
.error{display:block;color:#b3261e;font-weight:600;margin:0 0 .35rem}
input[type=text],input[type=email],input[type=date],select,textarea{display:block;width:100%;font:inherit;padding:.5rem .6rem;border:2px solid #5c6370;border-radius:.25rem;background:#fff;color:inherit}
textarea{min-height:7rem;resize:vertical}
.invalid input[type=text],.invalid input[type=email],.invalid input[type=date],.invalid select,.invalid textarea{border-color:#b3261e}
input:focus,select:focus,textarea:focus,button:focus,a:focus,.error-summary:focus{outline:3px solid #f5b400;outline-offset:2px}
.choice{display:flex;align-items:flex-start;gap:.6rem;margin:.35rem 0}
.choice input{width:1.35rem;height:1.35rem;margin:.1rem 0 0;flex:none;accent-color:#1d4ed8}
.choice label{font-weight:400;margin:0}
.field.checkbox .choice label{font-weight:600}
button{font:inherit;font-weight:600;color:#fff;background:#1d4ed8;border:0;border-radius:.25rem;padding:.65rem 1.4rem;cursor:pointer}
button:hover{background:#1e40af}
.error-summary{border:3px solid #b3261e;border-radius:.25rem;padding:1rem 1.25rem;margin:0 0 1.5rem}
.error-summary ul{margin:0;padding-left:1.25rem}
.error-summary a{color:#b3261e;font-weight:600}
.success{border-left:4px solid #15803d;padding-left:.9rem}
.visually-hidden{position:absolute!important;width:1px!important;height:1px!important;margin:-1px!important;padding:0!important;overflow:hidden!important;clip:rect(0 0 0 0)!important;white-space:nowrap!important;border:0!important}
.trap{position:absolute!important;left:-10000px!important;top:auto!important;width:1px!important;height:1px!important;overflow:hidden!important}
@media (prefers-color-scheme:dark){html{background:#111318;color:#e7e9ee}main{background:#1b1e25;border-color:#3a3f4a}input[type=text],input[type=email],input[type=date],select,textarea{background:#111318;border-color:#8a93a3}.help,.optional{color:#b6bcc8}.error,.error-summary a{color:#ffb4ab}.error-summary,.field.invalid{border-color:#ffb4ab}}
`

var pages = template.Must(template.New("pages").Parse(`
{{define "head"}}<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="no-referrer">
<title>{{.}}</title>
<style>` + css + `</style>
</head>
<body>
<main>
{{end}}

{{define "foot"}}</main>
</body>
</html>
{{end}}

{{define "notice"}}{{template "head" .Title}}<h1>{{.Title}}</h1>
<div{{if .Status}} class="success" role="status"{{end}}>
{{range .Message}}<p>{{.}}</p>
{{end}}</div>
{{template "foot"}}{{end}}

{{define "label"}}{{.Label}}{{if not .Required}} <span class="optional">(optional)</span>{{end}}{{end}}

{{define "notes"}}{{if .Help}}<span class="help" id="{{.HelpID}}">{{.Help}}</span>{{end}}{{if .Error}}<span class="error" id="{{.ErrorID}}"><span class="visually-hidden">Error: </span>{{.Error}}</span>{{end}}{{end}}

{{define "aria"}}{{if .DescribedBy}} aria-describedby="{{.DescribedBy}}"{{end}}{{if .Error}} aria-invalid="true"{{end}}{{if .Required}} required{{end}}{{end}}

{{define "field"}}
{{- if eq .Type "hidden"}}<input type="hidden" name="{{.Key}}" value="{{.Value}}">
{{- else if eq .Type "radio"}}<fieldset class="field{{if .Error}} invalid{{end}}"{{if .DescribedBy}} aria-describedby="{{.DescribedBy}}"{{end}}>
<legend>{{template "label" .}}</legend>
{{template "notes" .}}
{{range .Options}}<div class="choice"><input type="radio" id="{{.ID}}" name="{{$.Key}}" value="{{.Value}}"{{if .Selected}} checked{{end}}{{if $.Error}} aria-invalid="true"{{end}}{{if $.Required}} required{{end}}><label for="{{.ID}}">{{.Label}}</label></div>
{{end}}</fieldset>
{{- else if eq .Type "checkbox"}}<div class="field checkbox{{if .Error}} invalid{{end}}">
{{template "notes" .}}
<div class="choice"><input type="checkbox" id="{{.ID}}" name="{{.Key}}" value="on"{{if .Checked}} checked{{end}}{{template "aria" .}}><label for="{{.ID}}">{{.Label}}</label></div>
</div>
{{- else}}<div class="field{{if .Error}} invalid{{end}}">
<label for="{{.ID}}">{{template "label" .}}</label>
{{template "notes" .}}
{{- if eq .Type "textarea"}}
<textarea id="{{.ID}}" name="{{.Key}}" rows="5"{{if .MaxLength}} maxlength="{{.MaxLength}}"{{end}}{{template "aria" .}}>{{.Value}}</textarea>
{{- else if eq .Type "select"}}
<select id="{{.ID}}" name="{{.Key}}"{{template "aria" .}}>
<option value="">Choose an option</option>
{{range .Options}}<option value="{{.Value}}"{{if .Selected}} selected{{end}}>{{.Label}}</option>
{{end}}</select>
{{- else}}
<input type="{{if eq .Type "email"}}email{{else if eq .Type "date"}}date{{else}}text{{end}}" id="{{.ID}}" name="{{.Key}}" value="{{.Value}}"
{{- if .InputMode}} inputmode="{{.InputMode}}"{{end}}{{if .Autocomplete}} autocomplete="{{.Autocomplete}}"{{end}}
{{- if eq .Type "email"}} spellcheck="false"{{end}}
{{- if .MaxLength}} maxlength="{{.MaxLength}}"{{end}}{{if .Min}} min="{{.Min}}"{{end}}{{if .Max}} max="{{.Max}}"{{end}}
{{- template "aria" .}}>
{{- end}}
</div>
{{- end}}
{{end}}

{{define "form"}}{{template "head" .PageTitle}}<h1>{{.Title}}</h1>
{{range .Description}}<p>{{.}}</p>
{{end}}
{{- if .HasErrors}}
<div class="error-summary" id="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1" autofocus>
<h2 id="error-summary-title">There is a problem</h2>
{{if .Problem}}<p>{{.Problem}}</p>
{{end}}{{if .Summary}}<ul>
{{range .Summary}}<li>{{if .Anchor}}<a href="#{{.Anchor}}">{{.Label}}: {{.Message}}</a>{{else}}{{.Label}}: {{.Message}}{{end}}</li>
{{end}}</ul>
{{end}}</div>
{{- end}}
<form method="post" accept-charset="utf-8" novalidate>
{{range .Fields}}{{template "field" .}}{{end}}
<div class="trap" aria-hidden="true"><label for="hp-{{.Honeypot}}">Leave this empty</label><input type="text" id="hp-{{.Honeypot}}" name="{{.Honeypot}}" value="" tabindex="-1" autocomplete="off"></div>
<button type="submit">{{.Submit}}</button>
</form>
{{template "foot"}}{{end}}
`))
