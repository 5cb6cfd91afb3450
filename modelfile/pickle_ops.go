package modelfile

import "strconv"

// step applies one opcode (after its byte was read) to the walk, as
// Python's pickletools describes it.
func (w *pickleWalk) step(op byte) error {
	switch op {
	// Protocol 0 arguments: a line.
	case 'I', 'L', 'F', 'P': // INT, LONG, FLOAT, PERSID
		if _, err := w.line(); err != nil {
			return err
		}
		w.push(value{})
	case 'S', 'V': // STRING (quoted), UNICODE (raw-unicode-escape)
		s, err := w.line()
		if err != nil {
			return err
		}
		if op == 'S' && len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
			s = s[1 : len(s)-1]
		}
		w.push(value{s: s, isStr: len(s) <= maxName})
	case 'c', 'i': // GLOBAL, INST: module and name lines
		module, err := w.line()
		if err != nil {
			return err
		}
		name, err := w.line()
		if err != nil {
			return err
		}
		if op == 'i' {
			if err := w.popMark(); err != nil {
				return err
			}
		}
		return w.addGlobal(module, name)
	case 'g', 'p': // GET, PUT with a decimal key
		key, err := w.decimal()
		if err != nil {
			return err
		}
		if op == 'p' {
			return w.memoPut(key)
		}
		w.memoGet(key)

	// Fixed-size arguments.
	case 'K', 'M', 'J', 'G': // BININT1, BININT2, BININT, BINFLOAT
		if _, err := w.fixed(map[byte]int{'K': 1, 'M': 2, 'J': 4, 'G': 8}[op]); err != nil {
			return err
		}
		w.push(value{})
	case 'h', 'j': // BINGET, LONG_BINGET
		key, err := w.uint(map[byte]int{'h': 1, 'j': 4}[op])
		if err != nil {
			return err
		}
		w.memoGet(key)
	case 'q', 'r': // BINPUT, LONG_BINPUT
		key, err := w.uint(map[byte]int{'q': 1, 'r': 4}[op])
		if err != nil {
			return err
		}
		return w.memoPut(key)
	case 0x94: // MEMOIZE
		return w.memoPut(w.memoNext)
	case 0x80: // PROTO
		v, err := w.uint(1)
		if err != nil {
			return err
		}
		if v > 5 {
			return bad("the pickle uses protocol %d; 5 is the newest", v)
		}
	case 0x95: // FRAME: frames are transparent to the walk
		_, err := w.uint(8)
		return err
	case 0x82, 0x83, 0x84: // EXT1, EXT2, EXT4: an import from copyreg's registry
		code, err := w.uint(map[byte]int{0x82: 1, 0x83: 2, 0x84: 4}[op])
		if err != nil {
			return err
		}
		return w.addGlobal("copyreg", "extension_"+strconv.FormatUint(code, 10))

	// Length-prefixed arguments.
	case 'U', 'C', 0x8c, 0x8a: // SHORT_BINSTRING, SHORT_BINBYTES, SHORT_BINUNICODE, LONG1
		return w.pushCounted(op, 1)
	case 'T', 'B', 'X', 0x8b: // BINSTRING, BINBYTES, BINUNICODE, LONG4
		return w.pushCounted(op, 4)
	case 0x8d, 0x8e, 0x96: // BINUNICODE8, BINBYTES8, BYTEARRAY8
		return w.pushCounted(op, 8)

	// No arguments.
	case 'N', 0x88, 0x89, ']', ')', '}', 0x8f, 0x97: // NONE, NEWTRUE, NEWFALSE, EMPTY_LIST/TUPLE/DICT/SET, NEXT_BUFFER
		w.push(value{})
	case '(': // MARK
		w.marks = append(w.marks, len(w.stack))
	case '0': // POP
		if len(w.stack) == w.floor() && len(w.marks) > 0 {
			return w.popMark()
		}
		_, err := w.pop(1)
		return err
	case '1': // POP_MARK
		return w.popMark()
	case '2': // DUP
		top, err := w.pop(1)
		if err != nil {
			return err
		}
		v := top[0]
		w.push(v)
		w.push(v)
	case 'a', 'b': // APPEND, BUILD
		_, err := w.pop(1)
		return err
	case 's': // SETITEM
		_, err := w.pop(2)
		return err
	case 'e', 'u', 0x90: // APPENDS, SETITEMS, ADDITEMS
		return w.popMark()
	case 'l', 't', 'd', 0x91, 'o': // LIST, TUPLE, DICT, FROZENSET, OBJ
		if err := w.popMark(); err != nil {
			return err
		}
		w.push(value{})
	case 0x85, 'Q', 0x98: // TUPLE1, BINPERSID, READONLY_BUFFER
		return w.replace(1)
	case 0x86, 'R', 0x81: // TUPLE2, REDUCE, NEWOBJ
		return w.replace(2)
	case 0x87, 0x92: // TUPLE3, NEWOBJ_EX
		return w.replace(3)
	case 0x93: // STACK_GLOBAL: module and name are the two items below
		items, err := w.pop(2)
		if err != nil {
			return err
		}
		return w.addGlobal(nameOf(items[0]), nameOf(items[1]))
	default:
		return bad("the pickle has an unknown opcode 0x%02x at byte %d", op, w.read.n-int64(w.r.Buffered())-1)
	}
	return nil
}

// pushCounted reads a length-prefixed argument; strings (not bytes or
// longs) are kept as names.
func (w *pickleWalk) pushCounted(op byte, lenBytes int) error {
	v, err := w.counted(lenBytes)
	if err != nil {
		return err
	}
	switch op {
	case 'U', 'T', 'X', 0x8c, 0x8d:
	default:
		v = value{}
	}
	w.push(v)
	return nil
}

// nameOf is a STACK_GLOBAL operand as a name; one the walk cannot tell
// (computed, or fetched from a memo it did not keep) is "?", which no
// allow-list entry matches.
func nameOf(v value) string {
	if !v.isStr {
		return "?"
	}
	return v.s
}
