package bulletin

import (
	"embed"
	"html/template"
	"io"
	"math"
	"strconv"
	"time"
)

//go:embed templates/bulletin.html
var templates embed.FS

var page = template.Must(template.New("bulletin.html").Funcs(template.FuncMap{
	"pct": Percent,
	"pp": func(v *float64) string {
		if v == nil {
			return "—"
		}
		return signedFloat(*v) + " 个百分点"
	},
	"signed": func(n int) string {
		if n > 0 {
			return "+" + strconv.Itoa(n)
		}
		return strconv.Itoa(n)
	},
	"deref": func(v any) any {
		switch p := v.(type) {
		case *int:
			return *p
		case *bool:
			return p != nil && *p
		}
		return v
	},
	"sub":   func(a, b int) int { return a - b },
	"shade": func(v float64) string { return strconv.FormatFloat(0.08+0.72*v, 'f', 2, 64) },
	"kindZh": func(k Kind) string {
		return map[Kind]string{Daily: "日通报", Weekly: "周调度通报", Monthly: "月度总结"}[k]
	},
	"target": func(kind string, v float64) string {
		p := strconv.FormatFloat(math.Round(v*1000)/10, 'f', -1, 64) + "%"
		if kind == "inspect_sites" {
			return "点位检查 " + p
		}
		return "按期结案 " + p
	},
	"date":     func(s string) string { return reformat(s, "2006-01-02 15:04") },
	"datetime": func(s string) string { return reformat(s, "2006-01-02 15:04") },
}).ParseFS(templates, "templates/bulletin.html"))

func signedFloat(v float64) string {
	s := strconv.FormatFloat(v, 'f', 1, 64)
	if v > 0 {
		return "+" + s
	}
	return s
}

func reformat(s, layout string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.Format(layout)
}

// WriteHTML writes b as a printable A4 page in Chinese (one page: the
// lists are cut to what fits, with a note pointing to the JSON and CSV),
// with its small map drawn inline: the page fetches nothing.
func WriteHTML(w io.Writer, b *Bulletin) error { return page.Execute(w, b) }
