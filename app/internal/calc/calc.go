// Package calc evaluates arithmetic expressions: + - * / % ^, parentheses,
// unary minus and decimal numbers, with the usual precedence and a
// right-associative ^.
//
// Grammar (lowest precedence first):
//
//	expr    = term { ("+" | "-") term }
//	term    = unary { ("*" | "/" | "%") unary }
//	unary   = ("-" | "+") unary | power
//	power   = primary [ "^" unary ]
//	primary = number | "(" expr ")"
//	number  = ( digits [ "." [ digits ] ] | "." digits ) [ ( "e" | "E" ) [ "+" | "-" ] digits ]
//
// Numbers are float64 (IEEE 754 double): integers are exact up to 2^53
// (9007199254740992) and rounded to the nearest double above; a result too
// small to represent (below about 5e-324) becomes 0; x % y has the sign of x
// (as Go's math.Mod and C's fmod: -7 % 3 is -1). A result is never -0.
//
// So -2^2 is -(2^2) and 2^-1 is 0.5, as in most calculators and languages
// that have a power operator.
package calc

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// Limits on the input, so one request cannot cost much.
const (
	MaxLength = 1024 // bytes of expression text
	MaxDepth  = 64   // nested parentheses
)

// Error codes returned in Error.Code.
const (
	CodeSyntax         = "syntax_error"
	CodeDivisionByZero = "division_by_zero"
	CodeTooLong        = "expression_too_long"
	CodeTooDeep        = "nesting_too_deep"
	CodeNotFinite      = "result_not_finite"
)

// Error describes why an expression could not be evaluated. Position is the
// 0-based byte offset (not the character count) in the expression where the
// problem was found: in "1+é" the é is at position 2, and a character after
// it at 4.
type Error struct {
	Code     string
	Message  string
	Position int
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s at position %d: %s", e.Code, e.Position, e.Message)
}

// Evaluate parses and evaluates expr. Any failure is an *Error.
func Evaluate(expr string) (float64, error) {
	if len(expr) > MaxLength {
		return 0, &Error{
			Code:     CodeTooLong,
			Message:  fmt.Sprintf("expression is %d bytes; the limit is %d", len(expr), MaxLength),
			Position: MaxLength,
		}
	}
	p := &parser{src: expr}
	p.skipSpace()
	if p.pos == len(p.src) {
		return 0, p.fail(CodeSyntax, "empty expression")
	}
	v, err := p.expr()
	if err != nil {
		return 0, err
	}
	if p.pos < len(p.src) {
		if p.src[p.pos] == ')' {
			return 0, p.fail(CodeSyntax, "unmatched ')'")
		}
		return 0, p.fail(CodeSyntax, fmt.Sprintf("unexpected %s", p.describe()))
	}
	// IEEE 754's negative zero (0*-1, -0) prints as "-0": the answer is 0.
	if v == 0 {
		v = 0
	}
	return v, nil
}

// end is what peek returns at the end of the expression: not a byte, so that
// a NUL in the text is not taken for the end.
const end = -1

type parser struct {
	src   string
	pos   int
	depth int
}

func (p *parser) fail(code, msg string) *Error {
	return &Error{Code: code, Message: msg, Position: p.pos}
}

func (p *parser) failAt(pos int, code, msg string) *Error {
	return &Error{Code: code, Message: msg, Position: pos}
}

func (p *parser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or end.
func (p *parser) peek() int {
	p.skipSpace()
	if p.pos < len(p.src) {
		return int(p.src[p.pos])
	}
	return end
}

// describe names the character at the current position (not the end) for
// error messages: the whole character, however many bytes it takes.
func (p *parser) describe() string {
	r, size := utf8.DecodeRuneInString(p.src[p.pos:])
	if r == utf8.RuneError && size == 1 {
		return fmt.Sprintf("byte 0x%02x (not UTF-8)", p.src[p.pos])
	}
	return strconv.QuoteRune(r)
}

func (p *parser) expr() (float64, error) {
	left, err := p.term()
	if err != nil {
		return 0, err
	}
	for {
		op := p.peek()
		if op != '+' && op != '-' {
			return left, nil
		}
		opPos := p.pos
		p.pos++
		right, err := p.term()
		if err != nil {
			return 0, err
		}
		if op == '+' {
			left += right
		} else {
			left -= right
		}
		if err := checkFinite(left, opPos); err != nil {
			return 0, err
		}
	}
}

func (p *parser) term() (float64, error) {
	left, err := p.unary()
	if err != nil {
		return 0, err
	}
	for {
		op := p.peek()
		if op != '*' && op != '/' && op != '%' {
			return left, nil
		}
		opPos := p.pos
		p.pos++
		right, err := p.unary()
		if err != nil {
			return 0, err
		}
		switch op {
		case '*':
			left *= right
		case '/':
			if right == 0 {
				return 0, p.failAt(opPos, CodeDivisionByZero, "division by zero")
			}
			left /= right
		case '%':
			if right == 0 {
				return 0, p.failAt(opPos, CodeDivisionByZero, "modulo by zero")
			}
			left = math.Mod(left, right)
		}
		if err := checkFinite(left, opPos); err != nil {
			return 0, err
		}
	}
}

func (p *parser) unary() (float64, error) {
	switch p.peek() {
	case '-':
		p.pos++
		v, err := p.unary()
		return -v, err
	case '+':
		p.pos++
		return p.unary()
	}
	return p.power()
}

func (p *parser) power() (float64, error) {
	base, err := p.primary()
	if err != nil {
		return 0, err
	}
	if p.peek() != '^' {
		return base, nil
	}
	opPos := p.pos
	p.pos++
	exp, err := p.unary() // right-associative: 2^3^2 = 2^(3^2)
	if err != nil {
		return 0, err
	}
	v := math.Pow(base, exp)
	if base == 0 && exp < 0 {
		return 0, p.failAt(opPos, CodeDivisionByZero, "zero raised to a negative power")
	}
	if err := checkFinite(v, opPos); err != nil {
		return 0, err
	}
	return v, nil
}

func (p *parser) primary() (float64, error) {
	c := p.peek()
	switch {
	case c == '(':
		if p.depth >= MaxDepth {
			return 0, p.fail(CodeTooDeep, fmt.Sprintf("more than %d nested parentheses", MaxDepth))
		}
		open := p.pos
		p.pos++
		p.depth++
		v, err := p.expr()
		if err != nil {
			return 0, err
		}
		if p.peek() != ')' {
			if p.pos >= len(p.src) {
				return 0, p.failAt(open, CodeSyntax, "unclosed '('")
			}
			return 0, p.fail(CodeSyntax, fmt.Sprintf("expected ')' but found %s", p.describe()))
		}
		p.pos++
		p.depth--
		return v, nil
	case c == '.' || (c != end && isDigit(byte(c))):
		return p.number()
	case c == end:
		return 0, p.fail(CodeSyntax, "expected a number or '(' but found end of expression")
	default:
		return 0, p.fail(CodeSyntax, fmt.Sprintf("expected a number or '(' but found %s", p.describe()))
	}
}

func (p *parser) number() (float64, error) {
	start := p.pos
	for p.pos < len(p.src) && isDigit(p.src[p.pos]) {
		p.pos++
	}
	intDigits := p.pos - start
	if p.pos < len(p.src) && p.src[p.pos] == '.' {
		p.pos++
		fracStart := p.pos
		for p.pos < len(p.src) && isDigit(p.src[p.pos]) {
			p.pos++
		}
		if intDigits == 0 && p.pos == fracStart {
			return 0, p.failAt(start, CodeSyntax, "'.' is not a number")
		}
	}
	if p.pos < len(p.src) && p.src[p.pos] == '.' {
		return 0, p.fail(CodeSyntax, "a number has at most one '.'")
	}
	// An exponent, as results beyond 1e21 or below 1e-6 are printed (1e+21, 1e-7): any result
	// reads back as the same number.
	if p.pos < len(p.src) && (p.src[p.pos] == 'e' || p.src[p.pos] == 'E') {
		at := p.pos
		p.pos++
		if p.pos < len(p.src) && (p.src[p.pos] == '+' || p.src[p.pos] == '-') {
			p.pos++
		}
		digits := p.pos
		for p.pos < len(p.src) && isDigit(p.src[p.pos]) {
			p.pos++
		}
		if p.pos == digits {
			return 0, p.failAt(at, CodeSyntax, "an exponent needs digits, as in 1e+21 or 2.5e-7")
		}
	}
	v, err := strconv.ParseFloat(p.src[start:p.pos], 64)
	if err != nil {
		// Only a literal beyond float64's range gets here (ParseFloat returns ±Inf).
		return 0, p.failAt(start, CodeNotFinite, "number is too large")
	}
	return v, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func checkFinite(v float64, pos int) error {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return &Error{Code: CodeNotFinite, Message: "result is not a finite number", Position: pos}
	}
	return nil
}
