package notify

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/template/parse"
)

// A template is executed here, not by text/template: text/template calls
// reflect.Value.MethodByName with names from the template, which makes the
// linker keep every exported method of every type the binary can reach
// through an interface (issue 12, the Lambda sizes). The data model is
// fixed (TemplateData: strings and a map[string]string), so this evaluator
// walks the parse tree of text/template/parse over it without reflection.
// It is a port of text/template's exec.go restricted to that model, with
// missingkey=zero, and gives the same output and the same errors; the
// differential tests in templatediff_test.go hold it to that.

// A value is what an expression evaluates to: nil (text/template's
// invalid value, printed "<no value>"), a string, int, uint8 (a byte of a
// string, from index), float64, complex128, bool, map[string]string or
// TemplateData.
type value = any

// missing marks the absent final argument of a pipeline's first command.
type missing struct{}

func isMissing(v value) bool {
	_, ok := v.(missing)
	return ok
}

// Control flow and failures travel as panics, as in text/template.
type (
	execError  struct{ err error }
	writeError struct{ err error }
	walkSignal int
)

const (
	walkBreak walkSignal = iota
	walkContinue
)

// tvar is a template variable ($, $x) and its value.
type tvar struct {
	name string
	v    value
}

// An execution is bounded in work and memory, whatever the template:
// it fails past maxSteps steps (each node evaluated, each range
// iteration) or past maxWork bytes read and written by the functions that
// copy strings (upper, replace, print, printf…), and no function may
// return a string longer than maxValue (checked before the call where the
// call could allocate much more: print, printf, replace). With the output
// limit (maxRendered), an execution allocates a few megabytes at most.
const (
	// maxSteps is generous: ranging over 100 labels with a few actions
	// each takes a few thousand.
	maxSteps = 100_000
	// maxWork bounds the bytes functions copy: a hundred truncations
	// or upper-casings of the longest message (16 KiB) fit.
	maxWork = 4 << 20
	// maxValue is the longest string a function may return: no longer
	// than what a template may write.
	maxValue = maxRendered
	// maxWidth is the largest width or precision of a printf verb.
	maxWidth = 1024
)

// execState is one execution of a template.
type execState struct {
	name, src string
	out       *limited
	node      parse.Node // the node being evaluated, for error positions
	vars      []tvar
	steps     int // taken, up to maxSteps
	work      int // bytes functions read and wrote, up to maxWork
}

// execute runs tree (parsed from src, named name) over data and returns
// what it writes, or an error worded as text/template words it.
func execute(name, src string, tree *parse.Tree, data TemplateData) (out string, err error) {
	return newExecState(name, src, data).run(tree, data)
}

// newExecState is a fresh execution of src (named name) over data.
func newExecState(name, src string, data TemplateData) *execState {
	return &execState{name: name, src: src, out: &limited{}, vars: []tvar{{"$", data}}}
}

// run executes tree, as execute.
func (s *execState) run(tree *parse.Tree, data TemplateData) (out string, err error) {
	defer func() {
		switch e := recover().(type) {
		case nil:
		case execError:
			err = e.err
		case writeError:
			err = e.err
		default:
			panic(e)
		}
	}()
	s.walk(data, tree.Root)
	return s.out.String(), nil
}

// at is the evaluation of node n: one step of the budget.
func (s *execState) at(n parse.Node) {
	s.node = n
	s.step(1)
}

// step takes n steps of the budget, or fails at the current node.
func (s *execState) step(n int) {
	if n > maxSteps-s.steps {
		s.errorf("the template takes more than %d steps", maxSteps)
	}
	s.steps += n
}

// errorf fails the execution: "template: NAME:LINE:COL: executing "NAME"
// at <NODE>: MSG", as text/template says it.
func (s *execState) errorf(format string, args ...any) {
	msg := fmt.Errorf(format, args...).Error()
	if s.node == nil {
		panic(execError{fmt.Errorf("template: %s: %s", s.name, msg)})
	}
	line, col := position(s.src, s.node.Position())
	panic(execError{fmt.Errorf("template: %s:%d:%d: executing %q at <%s>: %s", s.name, line, col, s.name, s.node.String(), msg)})
}

// position is the line (1-based) and byte column (0-based, as
// text/template reports it) of pos in src.
func position(src string, pos parse.Pos) (line, col int) {
	text := src[:pos]
	col = int(pos)
	if nl := strings.LastIndex(text, "\n"); nl >= 0 {
		col = int(pos) - (nl + 1)
	}
	return 1 + strings.Count(text, "\n"), col
}

func (s *execState) write(p string) {
	if _, err := s.out.Write([]byte(p)); err != nil {
		panic(writeError{err})
	}
}

func (s *execState) mark() int { return len(s.vars) }

func (s *execState) pop(mark int) { s.vars = s.vars[:mark] }

func (s *execState) push(name string, v value) { s.vars = append(s.vars, tvar{name, v}) }

func (s *execState) setVar(name string, v value) {
	for i := len(s.vars) - 1; i >= 0; i-- {
		if s.vars[i].name == name {
			s.vars[i].v = v
			return
		}
	}
	s.errorf("undefined variable: %s", name)
}

func (s *execState) setTopVar(n int, v value) { s.vars[len(s.vars)-n].v = v }

func (s *execState) varValue(name string) value {
	for i := len(s.vars) - 1; i >= 0; i-- {
		if s.vars[i].name == name {
			return s.vars[i].v
		}
	}
	s.errorf("undefined variable: %s", name)
	return nil
}

func (s *execState) walk(dot value, node parse.Node) {
	s.at(node)
	switch node := node.(type) {
	case *parse.ActionNode:
		v := s.evalPipeline(dot, node.Pipe)
		if len(node.Pipe.Decl) == 0 {
			s.printValue(node, v)
		}
	case *parse.BreakNode:
		panic(walkBreak)
	case *parse.CommentNode:
	case *parse.ContinueNode:
		panic(walkContinue)
	case *parse.IfNode:
		s.walkIfOrWith(parse.NodeIf, dot, node.Pipe, node.List, node.ElseList)
	case *parse.ListNode:
		for _, n := range node.Nodes {
			s.walk(dot, n)
		}
	case *parse.RangeNode:
		s.walkRange(dot, node)
	case *parse.TextNode:
		s.write(string(node.Text))
	case *parse.WithNode:
		s.walkIfOrWith(parse.NodeWith, dot, node.Pipe, node.List, node.ElseList)
	default:
		// templateCheck refuses the rest ({{template}}) before execution.
		s.errorf("unknown node: %s", node)
	}
}

func (s *execState) walkIfOrWith(typ parse.NodeType, dot value, pipe *parse.PipeNode, list, elseList *parse.ListNode) {
	defer s.pop(s.mark())
	v := s.evalPipeline(dot, pipe)
	t, ok := truth(v)
	if !ok {
		s.errorf("if/with can't use %v", v)
	}
	switch {
	case t && typ == parse.NodeWith:
		s.walk(v, list)
	case t:
		s.walk(dot, list)
	case elseList != nil:
		s.walk(dot, elseList)
	}
}

func (s *execState) walkRange(dot value, r *parse.RangeNode) {
	s.at(r)
	defer func() {
		if e := recover(); e != nil && e != walkBreak {
			panic(e)
		}
	}()
	defer s.pop(s.mark())
	val := s.evalPipeline(dot, r.Pipe)
	mark := s.mark()
	oneIteration := func(index, elem value) {
		if len(r.Pipe.Decl) > 0 {
			if r.Pipe.IsAssign {
				if len(r.Pipe.Decl) > 1 {
					s.setVar(r.Pipe.Decl[0].Ident[0], index)
				} else {
					s.setVar(r.Pipe.Decl[0].Ident[0], elem)
				}
			} else {
				s.setTopVar(1, elem)
			}
		}
		if len(r.Pipe.Decl) > 1 {
			if r.Pipe.IsAssign {
				s.setVar(r.Pipe.Decl[1].Ident[0], elem)
			} else {
				s.setTopVar(2, index)
			}
		}
		s.step(1)
		defer s.pop(mark)
		defer func() {
			if e := recover(); e != nil && e != walkContinue {
				panic(e)
			}
		}()
		s.walk(elem, r.List)
	}
	switch v := val.(type) {
	case int, uint8:
		if len(r.Pipe.Decl) > 1 {
			s.errorf("can't use %v to iterate over more than one variable", val)
		}
		if n, ok := v.(int); ok && n > 0 {
			if n > maxSteps-s.steps {
				// Fail at once rather than iterate to find out.
				s.node = r
				s.errorf("the template takes more than %d steps", maxSteps)
			}
			for i := range n {
				oneIteration(nil, i)
			}
			return
		}
		if n, ok := v.(uint8); ok && n > 0 {
			for i := range n {
				oneIteration(nil, i)
			}
			return
		}
	case map[string]string:
		if len(v) > 0 {
			for _, k := range slices.Sorted(maps.Keys(v)) {
				oneIteration(k, v[k])
			}
			return
		}
	case nil:
		// An invalid value acts like an empty map.
	default:
		s.errorf("range can't iterate over %v", val)
	}
	if r.ElseList != nil {
		s.walk(dot, r.ElseList)
	}
}

func (s *execState) evalPipeline(dot value, pipe *parse.PipeNode) value {
	if pipe == nil {
		return nil
	}
	s.at(pipe)
	var v value = missing{}
	for _, cmd := range pipe.Cmds {
		v = s.evalCommand(dot, cmd, v)
	}
	for _, variable := range pipe.Decl {
		if pipe.IsAssign {
			s.setVar(variable.Ident[0], v)
		} else {
			s.push(variable.Ident[0], v)
		}
	}
	return v
}

func (s *execState) notAFunction(args []parse.Node, final value) {
	if len(args) > 1 || !isMissing(final) {
		s.errorf("can't give argument to non-function %s", args[0])
	}
}

func (s *execState) evalCommand(dot value, cmd *parse.CommandNode, final value) value {
	first := cmd.Args[0]
	switch n := first.(type) {
	case *parse.FieldNode:
		return s.evalFieldNode(dot, n, cmd.Args, final)
	case *parse.ChainNode:
		return s.evalChainNode(dot, n, cmd.Args, final)
	case *parse.IdentifierNode:
		return s.evalFunction(dot, n, cmd, cmd.Args, final)
	case *parse.PipeNode:
		s.notAFunction(cmd.Args, final)
		return s.evalPipeline(dot, n)
	case *parse.VariableNode:
		return s.evalVariableNode(dot, n, cmd.Args, final)
	}
	s.at(first)
	s.notAFunction(cmd.Args, final)
	switch word := first.(type) {
	case *parse.BoolNode:
		return word.True
	case *parse.DotNode:
		return dot
	case *parse.NilNode:
		s.errorf("nil is not a command")
	case *parse.NumberNode:
		return s.idealConstant(word)
	case *parse.StringNode:
		return word.Text
	}
	s.errorf("can't evaluate command %q", first)
	return nil
}

// idealConstant is a number without a type from context: complex, float
// (with a '.', exponent) or int, as Go's constants.
func (s *execState) idealConstant(c *parse.NumberNode) value {
	s.at(c)
	switch {
	case c.IsComplex:
		return c.Complex128
	case c.IsFloat && !isHexInt(c.Text) && !isRuneInt(c.Text) && strings.ContainsAny(c.Text, ".eEpP"):
		return c.Float64
	case c.IsInt:
		n := int(c.Int64)
		if int64(n) != c.Int64 {
			s.errorf("%s overflows int", c.Text)
		}
		return n
	case c.IsUint:
		s.errorf("%s overflows int", c.Text)
	}
	return nil
}

func isRuneInt(s string) bool { return len(s) > 0 && s[0] == '\'' }

func isHexInt(s string) bool {
	return len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && !strings.ContainsAny(s, "pP")
}

func (s *execState) evalFieldNode(dot value, field *parse.FieldNode, args []parse.Node, final value) value {
	s.at(field)
	return s.evalFieldChain(dot, dot, field, field.Ident, args, final)
}

func (s *execState) evalChainNode(dot value, chain *parse.ChainNode, args []parse.Node, final value) value {
	s.at(chain)
	if len(chain.Field) == 0 {
		s.errorf("internal error: no fields in evalChainNode")
	}
	if chain.Node.Type() == parse.NodeNil {
		s.errorf("indirection through explicit nil in %s", chain)
	}
	pipe := s.evalArg(dot, pNone, chain.Node)
	return s.evalFieldChain(dot, pipe, chain, chain.Field, args, final)
}

func (s *execState) evalVariableNode(dot value, variable *parse.VariableNode, args []parse.Node, final value) value {
	s.at(variable)
	v := s.varValue(variable.Ident[0])
	if len(variable.Ident) == 1 {
		s.notAFunction(args, final)
		return v
	}
	return s.evalFieldChain(dot, v, variable, variable.Ident[1:], args, final)
}

func (s *execState) evalFieldChain(dot, receiver value, node parse.Node, ident []string, args []parse.Node, final value) value {
	n := len(ident)
	for i := 0; i < n-1; i++ {
		receiver = s.evalField(ident[i], nil, missing{}, receiver)
	}
	return s.evalField(ident[n-1], args, final, receiver)
}

// evalField is .Name on receiver: a field of TemplateData or, with
// missingkey=zero, an entry of a map ("" when absent).
func (s *execState) evalField(name string, args []parse.Node, final, receiver value) value {
	if receiver == nil {
		return nil
	}
	hasArgs := len(args) > 1 || !isMissing(final)
	switch r := receiver.(type) {
	case TemplateData:
		if v, ok := r.field(name); ok {
			if hasArgs {
				s.errorf("%s has arguments but cannot be invoked as function", name)
			}
			return v
		}
	case map[string]string:
		if hasArgs {
			s.errorf("%s is not a method but has arguments", name)
		}
		return r[name]
	}
	s.errorf("can't evaluate field %s in type %T", name, receiver)
	return nil
}

// field is d's field called name.
func (d TemplateData) field(name string) (value, bool) {
	switch name {
	case "ID":
		return d.ID, true
	case "Type":
		return d.Type, true
	case "Severity":
		return d.Severity, true
	case "Title":
		return d.Title, true
	case "Message":
		return d.Message, true
	case "Source":
		return d.Source, true
	case "Policy":
		return d.Policy, true
	case "PolicyID":
		return d.PolicyID, true
	case "Job":
		return d.Job, true
	case "Status":
		return d.Status, true
	case "URL":
		return d.URL, true
	case "Time":
		return d.Time, true
	case "Labels":
		return d.Labels, true
	}
	return nil, false
}

func (s *execState) evalFunction(dot value, node *parse.IdentifierNode, cmd parse.Node, args []parse.Node, final value) value {
	s.at(node)
	f, ok := templateFns[node.Ident]
	if !ok {
		s.errorf("%q is not a defined function", node.Ident)
	}
	return s.evalCall(dot, f, node.Ident, cmd, args, final)
}

// evalCall calls f with args (args[0] is the function's own node) and the
// final value of the pipeline, if any, as its last argument.
func (s *execState) evalCall(dot value, f tfunc, name string, node parse.Node, args []parse.Node, final value) value {
	if args != nil {
		args = args[1:]
	}
	numIn := len(args)
	if !isMissing(final) {
		numIn++
	}
	numFixed := len(args)
	if f.variadic {
		numFixed = len(f.params) - 1
		if numIn < numFixed {
			s.errorf("wrong number of args for %s: want at least %d got %d", name, len(f.params)-1, len(args))
		}
	} else if numIn != len(f.params) {
		s.errorf("wrong number of args for %s: want %d got %d", name, len(f.params), numIn)
	}
	if name == "and" || name == "or" {
		// They short-circuit and return one of their arguments.
		var v value
		for _, arg := range args {
			v = s.evalArg(dot, pValue, arg)
			if t, _ := truth(v); t == (name == "or") {
				return v
			}
		}
		if !isMissing(final) {
			v = s.validateType(final, pValue)
		}
		return v
	}
	argv := make([]value, numIn)
	i := 0
	for ; i < numFixed && i < len(args); i++ {
		argv[i] = s.evalArg(dot, f.params[i], args[i])
	}
	if f.variadic {
		t := f.params[len(f.params)-1]
		for ; i < len(args); i++ {
			argv[i] = s.evalArg(dot, t, args[i])
		}
	}
	if !isMissing(final) {
		t := f.params[len(f.params)-1]
		if f.variadic && numIn-1 < numFixed {
			t = f.params[numIn-1]
		}
		argv[i] = s.validateType(final, t)
	}
	if err := precheck(name, argv); err != nil {
		s.node = node
		s.errorf("error calling %s: %w", name, err)
	}
	v, err := f.call(argv)
	if err != nil {
		s.node = node
		s.errorf("error calling %s: %w", name, err)
	}
	if str, ok := v.(string); ok && len(str) > maxValue {
		s.node = node
		s.errorf("error calling %s: the result exceeds %d bytes", name, maxValue)
	}
	s.charge(node, cost(name, argv, v))
	return v
}

// charge adds n bytes to the work, or fails at node.
func (s *execState) charge(node parse.Node, n int) {
	if n > maxWork-s.work {
		s.node = node
		s.errorf("the template's functions handle more than %d bytes", maxWork)
	}
	s.work += n
}

// validateType checks v is assignable to a parameter of type t.
func (s *execState) validateType(v value, t ptype) value {
	if v == nil {
		switch t {
		case pNone, pAny, pValue:
			return nil
		case pMap:
			return map[string]string(nil)
		}
		s.errorf("invalid value; expected %s", t)
	}
	ok := true
	switch t {
	case pString:
		_, ok = v.(string)
	case pInt:
		_, ok = v.(int)
	case pMap:
		_, ok = v.(map[string]string)
	}
	if !ok {
		s.errorf("wrong type for value; expected %s; got %T", t, v)
	}
	return v
}

func (s *execState) evalArg(dot value, t ptype, n parse.Node) value {
	s.at(n)
	switch arg := n.(type) {
	case *parse.DotNode:
		return s.validateType(dot, t)
	case *parse.NilNode:
		switch t {
		case pAny, pValue:
			return nil
		case pMap:
			return map[string]string(nil)
		}
		s.errorf("cannot assign nil to %s", t)
	case *parse.FieldNode:
		return s.validateType(s.evalFieldNode(dot, arg, []parse.Node{n}, missing{}), t)
	case *parse.VariableNode:
		return s.validateType(s.evalVariableNode(dot, arg, nil, missing{}), t)
	case *parse.PipeNode:
		return s.validateType(s.evalPipeline(dot, arg), t)
	case *parse.IdentifierNode:
		return s.validateType(s.evalFunction(dot, arg, arg, nil, missing{}), t)
	case *parse.ChainNode:
		return s.validateType(s.evalChainNode(dot, arg, nil, missing{}), t)
	}
	switch t {
	case pInt:
		if num, ok := n.(*parse.NumberNode); ok && num.IsInt {
			return int(num.Int64)
		}
		s.errorf("expected integer; found %s", n)
	case pString:
		if str, ok := n.(*parse.StringNode); ok {
			return str.Text
		}
		s.errorf("expected string; found %s", n)
	case pAny, pValue:
		return s.evalEmptyInterface(dot, n)
	}
	s.errorf("can't handle %s for arg of type %s", n, t)
	return nil
}

func (s *execState) evalEmptyInterface(dot value, n parse.Node) value {
	s.at(n)
	switch n := n.(type) {
	case *parse.BoolNode:
		return n.True
	case *parse.NumberNode:
		return s.idealConstant(n)
	case *parse.StringNode:
		return n.Text
	}
	s.errorf("can't handle assignment of %s to empty interface argument", n)
	return nil
}

// printValue writes v as fmt.Print does; nil is "<no value>".
func (s *execState) printValue(n parse.Node, v value) {
	s.at(n)
	if v == nil {
		s.write("<no value>")
		return
	}
	s.write(fmt.Sprint(v))
}

// truth is whether v is true for if, with, and, or and not: non-zero,
// non-empty.
func truth(v value) (t, ok bool) {
	switch v := v.(type) {
	case nil:
		return false, true
	case string:
		return v != "", true
	case bool:
		return v, true
	case int:
		return v != 0, true
	case uint8:
		return v != 0, true
	case float64:
		return v != 0, true
	case complex128:
		return v != 0, true
	case map[string]string:
		return len(v) > 0, true
	case TemplateData:
		return true, true
	}
	return false, false
}

var errNoComparison = errors.New("missing argument for comparison")
