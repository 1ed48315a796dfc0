package config

// maxNesting bounds how deeply a configuration file may nest tables and
// arrays, counting each segment of a dotted key as a level. The TOML
// library's cost grows with the square of the nesting (a 50,000-deep inline
// table took minutes), and a real config.toml nests two or three levels, so
// the document is measured with a cheap scan before it is parsed.
const maxNesting = 16

// nesting returns the deepest nesting level of the TOML document data: the
// number of enclosing brackets ([ or {, table headers included) plus the
// dots of the key being written at that point. It skips strings and
// comments and does not validate anything; an unterminated string simply
// ends the scan (the parser reports it). Dots are counted since the last
// structural character, so the dot of a float value adds at most one.
func nesting(data string) int {
	var stack []int // the level each open bracket started at
	base, dots, deepest := 0, 0, 0
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '#':
			for i < len(data) && data[i] != '\n' {
				i++
			}
			dots = 0
		case '"', '\'':
			end := skipString(data, i)
			if end < 0 {
				return deepest
			}
			i = end
		case '[', '{':
			stack = append(stack, base)
			base += dots + 1
			dots = 0
		case ']', '}':
			if n := len(stack); n > 0 {
				base, stack = stack[n-1], stack[:n-1]
			}
			dots = 0
		case '.':
			dots++
		case '=', ',', '\n':
			dots = 0
		}
		deepest = max(deepest, base+dots)
	}
	return deepest
}

// skipString returns the index of the last byte of the string starting at
// data[i] (a quote), or -1 if it is not terminated.
func skipString(data string, i int) int {
	q := data[i]
	if len(data) >= i+3 && data[i+1] == q && data[i+2] == q {
		// Multi-line string: up to the next triple quote (TOML allows up
		// to two more quotes right before the closing ones).
		for j := i + 3; j+2 < len(data); j++ {
			if q == '"' && data[j] == '\\' {
				j++
				continue
			}
			if data[j] == q && data[j+1] == q && data[j+2] == q {
				end := j + 2
				for end+1 < len(data) && data[end+1] == q && end-j < 4 {
					end++
				}
				return end
			}
		}
		return -1
	}
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			if q == '"' {
				j++
			}
		case q:
			return j
		case '\n':
			return -1
		}
	}
	return -1
}
