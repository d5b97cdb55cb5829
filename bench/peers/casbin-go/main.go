// Command casbin-go is the Go Casbin peer of the Verdict decision benchmark.
// It loads the model file (bench/peers/casbin_model.conf, which node-casbin
// also loads), adds one policy line per workload rule, checks
// every request against its expected decision, then times single Enforce
// calls and prints one JSON result line.
//
// Usage: casbin-go --workload DIR/workload.json --model casbin_model.conf
// [--time-limit S] [--max-decisions N]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
)

type rule struct {
	ID           string  `json:"id"`
	Effect       string  `json:"effect"`
	Role         string  `json:"role"`
	Tenant       string  `json:"tenant"`
	ResourceType string  `json:"resource_type"`
	Action       string  `json:"action"`
	Scope        *string `json:"scope"`
	RequireTee   bool    `json:"require_tee"`
	AllowAgent   bool    `json:"allow_agent"`
}

type request struct {
	Subject struct {
		ID     string `json:"id"`
		Role   string `json:"role"`
		Tenant string `json:"tenant"`
	} `json:"subject"`
	Actor *struct {
		ID string `json:"id"`
	} `json:"actor"`
	Scopes []string `json:"scopes"`
	Tee    *struct {
		Debug bool `json:"debug"`
		TcbOK bool `json:"tcb_ok"`
	} `json:"tee"`
	Action   string `json:"action"`
	Resource struct {
		ID     string `json:"id"`
		Type   string `json:"type"`
		Tenant string `json:"tenant"`
	} `json:"resource"`
	Expected *bool `json:"expected"`
}

type workload struct {
	Rules    []rule    `json:"rules"`
	Requests []request `json:"requests"`
}

// The request values, in the field names the matcher reads.
type subject struct{ Role, Tenant string }
type object struct{ Type, Tenant string }
type environment struct {
	Scopes                               []string
	HasActor, HasTee, TeeDebug, TeeTcbOK bool
}

type result struct {
	Engine   string  `json:"engine"`
	Version  string  `json:"version"`
	Size     int     `json:"size"`
	Requests int     `json:"requests"`
	Checked  int     `json:"checked"`
	Timed    int     `json:"timed"`
	SetupMs  float64 `json:"setup_ms"`
	MedianNs int64   `json:"median_ns"`
	P99Ns    int64   `json:"p99_ns"`
	MeanNs   int64   `json:"mean_ns"`
}

// casbinVersion is the Debian package the runner is built against; run.sh
// passes it with -ldflags "-X main.casbinVersion=...".
var casbinVersion = "unknown"

func loadWorkload(path string) (*workload, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read workload %s: %v", path, err)
	}
	var w workload
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("invalid workload %s: %v", path, err)
	}
	for i, r := range w.Rules {
		if r.Effect != "permit" && r.Effect != "forbid" {
			return nil, fmt.Errorf("invalid workload %s: rules[%d]: effect is %q, expected \"permit\" or \"forbid\"", path, i, r.Effect)
		}
	}
	for i, r := range w.Requests {
		if r.Expected == nil {
			return nil, fmt.Errorf("invalid workload %s: requests[%d]: \"expected\" must be a boolean", path, i)
		}
	}
	return &w, nil
}

func hasScope(args ...interface{}) (interface{}, error) {
	scopes, ok := args[0].([]string)
	if !ok || len(args) != 2 {
		return nil, fmt.Errorf("hasScope(scopes, scope) expects a []string and a string, got %v", args)
	}
	for _, scope := range scopes {
		if scope == args[1] {
			return true, nil
		}
	}
	return false, nil
}

func newEnforcer(modelPath string, rules []rule) (*casbin.Enforcer, error) {
	m, err := model.NewModelFromFile(modelPath)
	if err != nil {
		return nil, fmt.Errorf("cannot load Casbin model %s: %v", modelPath, err)
	}
	e, err := casbin.NewEnforcer(m)
	if err != nil {
		return nil, err
	}
	e.AddFunction("hasScope", hasScope)
	lines := make([][]string, 0, len(rules))
	for _, r := range rules {
		scope, effect := "", "allow"
		if r.Scope != nil {
			scope = *r.Scope
		}
		if r.Effect == "forbid" {
			effect = "deny"
		}
		lines = append(lines, []string{r.ID, r.Role, r.Tenant, r.ResourceType, r.Action, scope,
			fmt.Sprint(r.RequireTee), fmt.Sprint(r.AllowAgent), effect})
	}
	if added, err := e.AddPolicies(lines); err != nil || !added {
		return nil, fmt.Errorf("Go Casbin rejected the policy lines: %v", err)
	}
	if count := len(e.GetPolicy()); count != len(rules) {
		return nil, fmt.Errorf("Go Casbin loaded %d policy lines, expected %d", count, len(rules))
	}
	return e, nil
}

func toCasbin(r *request) []interface{} {
	env := environment{Scopes: r.Scopes, HasActor: r.Actor != nil, HasTee: r.Tee != nil}
	if r.Scopes == nil {
		env.Scopes = []string{}
	}
	if r.Tee != nil {
		env.TeeDebug, env.TeeTcbOK = r.Tee.Debug, r.Tee.TcbOK
	}
	return []interface{}{
		subject{Role: r.Subject.Role, Tenant: r.Subject.Tenant},
		object{Type: r.Resource.Type, Tenant: r.Resource.Tenant},
		r.Action,
		env,
	}
}

func decisionName(permit bool) string {
	if permit {
		return "PERMIT"
	}
	return "DENY"
}

func run() error {
	workloadPath := flag.String("workload", "", "path of workload.json (required)")
	modelPath := flag.String("model", "", "path of casbin_model.conf (required)")
	timeLimit := flag.Float64("time-limit", 20, "seconds of timed decisions, at most")
	maxDecisions := flag.Int("max-decisions", 200000, "timed decisions, at most")
	flag.Parse()
	if *workloadPath == "" || *modelPath == "" {
		return fmt.Errorf("missing --workload PATH or --model PATH")
	}
	w, err := loadWorkload(*workloadPath)
	if err != nil {
		return err
	}
	if len(w.Requests) == 0 {
		return fmt.Errorf("the workload %s has no requests", *workloadPath)
	}

	start := time.Now()
	e, err := newEnforcer(*modelPath, w.Rules)
	if err != nil {
		return err
	}
	calls := make([][]interface{}, len(w.Requests))
	for i := range w.Requests {
		calls[i] = toCasbin(&w.Requests[i])
	}
	setup := time.Since(start)

	for i := range calls {
		permit, err := e.Enforce(calls[i]...)
		if err != nil {
			return fmt.Errorf("Go Casbin failed on request %d: %v", i, err)
		}
		if permit != *w.Requests[i].Expected {
			text, _ := json.Marshal(w.Requests[i])
			return fmt.Errorf("casbin-go disagrees on request %d: decided %s, expected %s\nrequest: %s",
				i, decisionName(permit), decisionName(*w.Requests[i].Expected), text)
		}
	}

	samples := make([]int64, 0, *maxDecisions)
	deadline := time.Now().Add(time.Duration(*timeLimit * float64(time.Second)))
timing:
	for {
		for i := range calls {
			begin := time.Now()
			_, err := e.Enforce(calls[i]...)
			end := time.Now()
			if err != nil {
				return fmt.Errorf("Go Casbin failed on request %d: %v", i, err)
			}
			samples = append(samples, end.Sub(begin).Nanoseconds())
			if len(samples) >= *maxDecisions || end.After(deadline) {
				break timing
			}
		}
	}

	sort.Slice(samples, func(a, b int) bool { return samples[a] < samples[b] })
	rank := func(q float64) int64 {
		index := int(math.Ceil(q*float64(len(samples)))) - 1
		if index < 0 {
			index = 0
		}
		return samples[index]
	}
	var total int64
	for _, sample := range samples {
		total += sample
	}
	out, _ := json.Marshal(result{
		Engine: "casbin-go", Version: casbinVersion, Size: len(w.Rules),
		Requests: len(w.Requests), Checked: len(w.Requests), Timed: len(samples),
		SetupMs:  math.Round(float64(setup.Microseconds())/100) / 10,
		MedianNs: rank(0.5), P99Ns: rank(0.99), MeanNs: total / int64(len(samples)),
	})
	fmt.Println(string(out))
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
