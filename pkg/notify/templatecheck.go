package notify

import (
	"fmt"
	"text/template/parse"
)

// parseTemplate parses src (named part) as text/template parses it, with
// the same function names, and refuses what execute does not run. Errors
// are *TemplateError.
func parseTemplate(part, src string) (*parse.Tree, error) {
	trees := map[string]*parse.Tree{}
	t := parse.New(part)
	if _, err := t.Parse(src, "", "", trees, parseFuncs); err != nil {
		return nil, templateError(part, err)
	}
	if err := templateCheck(part, src, t.Root); err != nil {
		return nil, err
	}
	for name, other := range trees {
		if other != t || name != part {
			return nil, unsupported(part, src, other.Root, "{{define}} and {{block}} are not supported")
		}
	}
	return t, nil
}

// unsupported is the error of a construct execute does not run, at n.
func unsupported(part, src string, n parse.Node, msg string) *TemplateError {
	line, col := position(src, n.Position())
	return &TemplateError{Part: part, Line: line, Column: col + 1, Msg: msg}
}

// templateCheck refuses, in the tree under n, the constructs execute does
// not run: {{template}} and the builtins call, js and slice.
func templateCheck(part, src string, n parse.Node) *TemplateError {
	var err *TemplateError
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		if err != nil || n == nil {
			return
		}
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.IfNode:
			walkBranch(walk, &n.BranchNode)
		case *parse.WithNode:
			walkBranch(walk, &n.BranchNode)
		case *parse.RangeNode:
			walkBranch(walk, &n.BranchNode)
		case *parse.PipeNode:
			if n == nil {
				return
			}
			for _, c := range n.Cmds {
				walk(c)
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.ChainNode:
			walk(n.Node)
		case *parse.IdentifierNode:
			if unsupportedFuncs[n.Ident] {
				err = unsupported(part, src, n, fmt.Sprintf("function %q is not supported", n.Ident))
			}
		case *parse.TemplateNode:
			err = unsupported(part, src, n, "{{template}} is not supported")
		}
	}
	walk(n)
	return err
}

func walkBranch(walk func(parse.Node), b *parse.BranchNode) {
	walk(b.Pipe)
	walk(b.List)
	if b.ElseList != nil {
		walk(b.ElseList)
	}
}
