// Oracle for bootstrap-bot's template engine: renders test cases with Go's real text/template
// (and sprig) and prints the outputs and errors as JSON. Run by generate.py and the fuzzer
// (`make fuzz`), never in CI. With -funcs it prints the names of the functions it has; with -lines, one
// result a line as each case is done.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"sigs.k8s.io/yaml"
)

// The bootstrapper's own functions (internal/template), as it defines them.
var bootstrapperFuncs = template.FuncMap{
	"toYaml": func(v interface{}) string {
		data, err := yaml.Marshal(v)
		if err != nil {
			return ""
		}
		return strings.TrimSuffix(string(data), "\n")
	},
	"fromYaml": func(s string) (interface{}, error) {
		var out interface{}
		err := yaml.Unmarshal([]byte(s), &out)
		return out, err
	},
	"parseImage": func(ref string) map[string]interface{} {
		if ref == "" {
			return nil
		}
		image, tag, digest := ref, "", ""
		if i := strings.LastIndex(image, "@"); i >= 0 {
			digest = image[i+1:]
			image = image[:i]
		}
		if i := strings.LastIndex(image, ":"); i >= 0 {
			tag = image[i+1:]
			image = image[:i]
		} else if digest == "" {
			tag = "latest"
		}
		return map[string]interface{}{"image": image, "tag": tag, "digest": digest}
	},
}

type testCase struct {
	Name       string          `json:"name"`
	Template   string          `json:"template"`
	Data       json.RawMessage `json:"data"`
	MissingKey string          `json:"missingkey"`
	Funcs      string          `json:"funcs"`
}

type result struct {
	Name   string  `json:"name"`
	Output *string `json:"output"`
	Error  *string `json:"error"`
}

func render(c testCase) (out string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	t := template.New(c.Name)
	if c.Funcs != "builtin" {
		t = t.Funcs(sprig.TxtFuncMap())
		t = t.Funcs(bootstrapperFuncs)
	}
	mode := c.MissingKey
	if mode == "" {
		mode = "error"
	}
	t = t.Option("missingkey=" + mode)
	if _, err := t.Parse(c.Template); err != nil {
		return "", err
	}
	var data interface{}
	if len(c.Data) > 0 {
		if err := json.Unmarshal(c.Data, &data); err != nil {
			return "", err
		}
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return "", err
	}
	return buf.String(), nil
}

func resultOf(c testCase) result {
	out, err := render(c)
	r := result{Name: c.Name}
	if err != nil {
		msg := err.Error()
		r.Error = &msg
	} else {
		r.Output = &out
	}
	return r
}

// text/template's predefined functions (not exported by the package).
var builtinNames = []string{"and", "call", "html", "index", "slice", "js", "len", "not", "or",
	"print", "printf", "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne"}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-funcs" {
		names := append([]string{}, builtinNames...)
		for name := range sprig.TxtFuncMap() {
			names = append(names, name)
		}
		for name := range bootstrapperFuncs {
			names = append(names, name)
		}
		if err := json.NewEncoder(os.Stdout).Encode(names); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	var cases []testCase
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if len(os.Args) > 1 && os.Args[1] == "-lines" {
		// one result a line, written as each case is done: when a case kills the process
		// (out of memory), the lines before it stand and the caller knows which case it was
		enc := json.NewEncoder(os.Stdout)
		enc.SetEscapeHTML(false)
		for _, c := range cases {
			if err := enc.Encode(resultOf(c)); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
		return
	}
	results := make([]result, 0, len(cases))
	for _, c := range cases {
		results = append(results, resultOf(c))
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(results); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
