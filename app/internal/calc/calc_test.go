package calc

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestEvaluate(t *testing.T) {
	tests := []struct {
		expr string
		want float64
	}{
		{"2*(3+4)", 14},
		{"1+2*3", 7},
		{"(1+2)*3", 9},
		{"10-4-3", 3},                    // left-associative
		{"64/4/2", 8},                    // left-associative
		{"2^3^2", 512},                   // right-associative: 2^(3^2)
		{"(2^3)^2", 64},                  //
		{"-2^2", -4},                     // unary minus binds looser than ^
		{"(-2)^2", 4},                    //
		{"2^-1", 0.5},                    // unary minus in an exponent
		{"-3", -3},                       //
		{"--3", 3},                       //
		{"+3", 3},                        //
		{"3*-2", -6},                     //
		{"7%3", 1},                       //
		{"-7%3", -1},                     // sign of the dividend, as in Go and C
		{"7.5%2", 1.5},                   //
		{"1.5+.5", 2},                    // decimals, leading dot
		{"2.", 2},                        // trailing dot
		{"0.1+0.2", 0.30000000000000004}, // float64 arithmetic, as clients expect
		{" 1 +\t2\n", 3},                 // whitespace anywhere between tokens
		{"((((1))))", 1},                 //
		{"2*3+4*5", 26},                  //
		{"2+3*4^2", 50},                  // ^ before * before +
		{"100/8", 12.5},                  //
		{"1-(2-(3-4))", -2},              //
		{"0^0", 1},                       // math.Pow's convention
		{"9^0.5", 3},
		{"1e5", 1e5},                           // exponent notation, as results are printed
		{"2.5E-7", 2.5e-7},                     //
		{"1e+21*10", 1e22},                     //
		{".5e1", 5},                            //
		{"9007199254740993", 9007199254740992}, // above 2^53, the nearest float64
		{"1e-400", 0},                          // below the smallest float64: 0
		{"1e-200*1e-200", 0},                   // underflow in a result: 0
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, err := Evaluate(tt.expr)
			if err != nil {
				t.Fatalf("Evaluate(%q) error: %v", tt.expr, err)
			}
			if got != tt.want {
				t.Fatalf("Evaluate(%q) = %v, want %v", tt.expr, got, tt.want)
			}
		})
	}
}

func TestEvaluateErrors(t *testing.T) {
	deep := strings.Repeat("(", MaxDepth+1) + "1" + strings.Repeat(")", MaxDepth+1)
	atLimit := strings.Repeat("(", MaxDepth) + "1" + strings.Repeat(")", MaxDepth)
	if _, err := Evaluate(atLimit); err != nil {
		t.Fatalf("nesting at the limit (%d) should evaluate: %v", MaxDepth, err)
	}
	long := "1" + strings.Repeat("+1", MaxLength/2)
	if _, err := Evaluate(long[:MaxLength]); err == nil || !strings.Contains(err.Error(), CodeSyntax) {
		// long[:MaxLength] ends with '+', so it is a syntax error, not a length error.
		t.Fatalf("an expression of exactly %d bytes must be parsed, got %v", MaxLength, err)
	}

	// The limit is on nesting, not on how many groups there are.
	groups := strings.Repeat("(1)+", 2*MaxDepth) + "(1)"
	if v, err := Evaluate(groups); err != nil || v != 2*MaxDepth+1 {
		t.Fatalf("%d groups side by side: %v, %v", 2*MaxDepth+1, v, err)
	}

	tests := []struct {
		expr string
		code string
		pos  int
	}{
		{"", CodeSyntax, 0},
		{"   ", CodeSyntax, 3},
		{"2*", CodeSyntax, 2},
		{"2*(3+4", CodeSyntax, 2},   // the unclosed '('
		{"2*(3+4))", CodeSyntax, 7}, // the extra ')'
		{"(3 4)", CodeSyntax, 3},
		{"3 4", CodeSyntax, 2},
		{"2+x", CodeSyntax, 2},
		{"1..2", CodeSyntax, 2},
		{"1.2.3", CodeSyntax, 3},
		{".", CodeSyntax, 0},
		{"1+.", CodeSyntax, 2}, // a lone '.' after an operator is no number either
		{"(.)", CodeSyntax, 1},
		{"()", CodeSyntax, 1},
		{"*2", CodeSyntax, 0},
		{"2^", CodeSyntax, 2},
		{"1e", CodeSyntax, 1}, // an exponent needs digits
		{"1e+", CodeSyntax, 1},
		{"2E-x", CodeSyntax, 1},
		{"e5", CodeSyntax, 0},
		{"1e5.5", CodeSyntax, 3},
		{"1e400", CodeNotFinite, 0},
		{"1/0", CodeDivisionByZero, 1},
		{"1 / (2-2)", CodeDivisionByZero, 2},
		{"5%0", CodeDivisionByZero, 1},
		{"0^-1", CodeDivisionByZero, 1},
		{"10^400", CodeNotFinite, 2},
		{"(-8)^0.5", CodeNotFinite, 4},
		{"9^9^9", CodeNotFinite, 1},
		{strings.Repeat("9", 400), CodeNotFinite, 0},
		{deep, CodeTooDeep, MaxDepth},
		{long, CodeTooLong, MaxLength},
	}
	for _, tt := range tests {
		name := tt.expr
		if len(name) > 20 {
			name = name[:20] + "..."
		}
		t.Run(name, func(t *testing.T) {
			v, err := Evaluate(tt.expr)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Evaluate(%q) = %v, %v; want a *calc.Error", tt.expr, v, err)
			}
			if e.Code != tt.code || e.Position != tt.pos {
				t.Fatalf("Evaluate(%q) error = {%s %d %q}, want {%s %d}", tt.expr, e.Code, e.Position, e.Message, tt.code, tt.pos)
			}
			if e.Message == "" {
				t.Fatalf("Evaluate(%q) error has no message", tt.expr)
			}
		})
	}
}

// TestErrorMessagesNameWholeCharacters: a message quotes the character found,
// not one byte of it; positions stay byte offsets.
func TestErrorMessagesNameWholeCharacters(t *testing.T) {
	tests := []struct {
		expr    string
		message string
		pos     int
	}{
		{"1+é", "expected a number or '(' but found 'é'", 2},
		{"1+2é", "unexpected 'é'", 3},
		{"é+1", "expected a number or '(' but found 'é'", 0},
		{"1\u00a0+2", `unexpected '\u00a0'`, 1}, // a non-breaking space is no space to the parser
		{"(1+2€", "expected ')' but found '€'", 4},
		{"2*😀", "expected a number or '(' but found '😀'", 2},
		{"1+\xc3", "expected a number or '(' but found byte 0xc3 (not UTF-8)", 2},
		// A NUL in the text is a character like any other, not the end.
		{"1\x002", `unexpected '\x00'`, 1},
		{"1+\x00", `expected a number or '(' but found '\x00'`, 2},
		{"(1\x00", `expected ')' but found '\x00'`, 2},
		{"1+", "expected a number or '(' but found end of expression", 2},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := Evaluate(tt.expr)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Evaluate(%q) = %v; want a *calc.Error", tt.expr, err)
			}
			if e.Code != CodeSyntax || e.Message != tt.message || e.Position != tt.pos {
				t.Fatalf("Evaluate(%q) error = {%s %q %d}, want {%s %q %d}", tt.expr, e.Code, e.Message, e.Position, CodeSyntax, tt.message, tt.pos)
			}
		})
	}
}

// TestResultsReadBack: every result, printed as the API prints it (JSON),
// evaluates to itself, and none is the -0 that IEEE 754 allows.
func TestResultsReadBack(t *testing.T) {
	for _, expr := range []string{"10^21", "10^-7", "2^70", "1/3", "0*-1", "-0", "-(2-2)", "0.1+0.2", "-1e-300/1e10", "9007199254740993"} {
		v, err := Evaluate(expr)
		if err != nil {
			t.Fatalf("Evaluate(%q): %v", expr, err)
		}
		if v == 0 && math.Signbit(v) {
			t.Errorf("Evaluate(%q) = -0", expr)
		}
		printed, _ := json.Marshal(v)
		if again, err := Evaluate(string(printed)); err != nil || again != v {
			t.Errorf("%s = %s, which evaluates to %v, %v", expr, printed, again, err)
		}
	}
}

// FuzzEvaluate checks that no input panics, hangs, or yields a non-finite
// result, and that every error carries a known code and an in-range position.
// `go test` replays the seed corpus in testdata/fuzz/FuzzEvaluate.
func FuzzEvaluate(f *testing.F) {
	for _, s := range []string{"2*(3+4)", "-2^2", "1/0", "((1)", "1.5%0.4", "2^3^2"} {
		f.Add(s)
	}
	codes := map[string]bool{CodeSyntax: true, CodeDivisionByZero: true, CodeTooLong: true, CodeTooDeep: true, CodeNotFinite: true}
	f.Fuzz(func(t *testing.T, expr string) {
		v, err := Evaluate(expr)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Evaluate(%q): error %v is not a *calc.Error", expr, err)
			}
			if !codes[e.Code] {
				t.Fatalf("Evaluate(%q): unknown code %q", expr, e.Code)
			}
			if e.Position < 0 || e.Position > len(expr) {
				t.Fatalf("Evaluate(%q): position %d out of range", expr, e.Position)
			}
			return
		}
		if math.IsInf(v, 0) || math.IsNaN(v) {
			t.Fatalf("Evaluate(%q) = %v, a non-finite result without an error", expr, v)
		}
		if printed, _ := json.Marshal(v); math.Signbit(v) && v == 0 {
			t.Fatalf("Evaluate(%q) = -0", expr)
		} else if again, err := Evaluate(string(printed)); err != nil || again != v {
			t.Fatalf("Evaluate(%q) = %s, which evaluates to %v, %v", expr, printed, again, err)
		}
	})
}
