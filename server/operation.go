package server

import (
	gqlast "github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// parseRequest parses a request's document once, at the edge, for the allow-list
// (apq.go), operation naming (operationOfParsed) and the cost estimate (guard.admit).
// A document over maxQueryLength is not parsed (admit refuses it); graphql-go parses
// again to execute, as it keeps its parser internal. It returns nil and the error for a
// document that does not parse.
func parseRequest(query string) (*gqlast.QueryDocument, error) {
	if len(query) > maxQueryLength {
		return nil, nil
	}
	doc, err := parser.ParseQuery(&gqlast.Source{Input: query})
	if err != nil {
		return nil, err
	}
	return doc, nil
}

// operationOfParsed is operationOf on a parsed document (nil when src does not parse:
// operationOf then reads src's top level).
func operationOfParsed(doc *gqlast.QueryDocument, src, operationName string) (opType, name string) {
	if doc == nil {
		return operationOf(src, operationName)
	}
	for _, op := range doc.Operations {
		if operationName != "" && op.Name == operationName || operationName == "" && len(doc.Operations) == 1 {
			return string(op.Operation), op.Name
		}
	}
	return "query", operationName
}

// operationOf returns the type (query, mutation or subscription) and name of the
// operation of doc that a request with operationName runs: the one so named, or the
// only one when operationName is empty. It reads only the top level of the document
// (names, braces, strings and comments) and does not validate it; when it cannot tell
// (no such operation, or several and no name), it returns "query" and operationName.
// Metrics and the slow-query log use it to name requests whose clients send no
// operationName beside a named operation.
func operationOf(doc, operationName string) (opType, name string) {
	type op struct{ typ, name string }
	var ops []op
	depth := 0
	header := false     // in a definition's header, before its selection set
	expectName := false // just after an operation keyword: the next name names it
	for i := 0; i < len(doc); {
		c := doc[i]
		switch {
		case c == '#':
			for i < len(doc) && doc[i] != '\n' && doc[i] != '\r' {
				i++
			}
			continue
		case c == '"':
			i = skipString(doc, i)
			continue
		case c == '{' || c == '(' || c == '[':
			if depth == 0 && c == '{' {
				if !header { // the query shorthand: { … }
					ops = append(ops, op{typ: "query"})
				}
				header, expectName = false, false
			}
			depth++
		case c == '}' || c == ')' || c == ']':
			depth--
		case c == '@' || c == '$':
			expectName = false // a directive or variable name is not the operation's
		case isNameStart(c):
			j := i + 1
			for j < len(doc) && isNameChar(doc[j]) {
				j++
			}
			if word := doc[i:j]; depth == 0 {
				switch {
				case expectName:
					ops[len(ops)-1].name = word
					expectName = false
				case header:
				case word == "query" || word == "mutation" || word == "subscription":
					ops = append(ops, op{typ: word})
					header, expectName = true, true
				case word == "fragment":
					header = true
				}
			}
			i = j
			continue
		}
		i++
	}
	for _, o := range ops {
		if operationName != "" && o.name == operationName || operationName == "" && len(ops) == 1 {
			return o.typ, o.name
		}
	}
	return "query", operationName
}

// skipString returns the index after the string literal that starts at doc[i] ('"').
func skipString(doc string, i int) int {
	if len(doc) >= i+3 && doc[i:i+3] == `"""` {
		for j := i + 3; j < len(doc); j++ {
			if doc[j] == '\\' && len(doc) >= j+4 && doc[j+1:j+4] == `"""` {
				j += 3
				continue
			}
			if len(doc) >= j+3 && doc[j:j+3] == `"""` {
				return j + 3
			}
		}
		return len(doc)
	}
	for j := i + 1; j < len(doc); j++ {
		switch doc[j] {
		case '\\':
			j++
		case '"', '\n':
			return j + 1
		}
	}
	return len(doc)
}

func isNameStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isNameChar(c byte) bool  { return isNameStart(c) || c >= '0' && c <= '9' }
