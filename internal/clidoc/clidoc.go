// Package clidoc turns a command's pflag definitions and its --help text
// into shell completion scripts (bash, zsh, fish) and a man page, so that
// what the shells offer and what the manual says are the flags the command
// parses, with the words its help uses.
//
// The help text is the one source of descriptions: a section is a line
// ending in ":" at the left margin; in a section whose first line is a
// flag entry, an entry starts with "-" at
// column 2 or 6 ("  -r, --read FILE", "      --ladder[=QUERY]"), its
// description at column DescColumn, continued on lines indented to it.
// New refuses a flag the help does not describe and an entry that names
// no flag, so the help cannot drift from the parser either.
package clidoc

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"
)

// DescColumn is where a flag entry's description starts in the help.
const DescColumn = 26

// Flag is one flag as the help describes it.
type Flag struct {
	Long, Short string // without dashes; either may be empty
	Arg         string // the value's placeholder ("FILE"), "" for a switch
	OptionalArg bool   // --ladder[=QUERY]: the value is optional
	Repeatable  bool   // a StringArray flag
	Help        string // the description, one paragraph
}

// Section is one section of the help: a flag section has Flags; any
// other (usage, exit status, examples) has its Lines as written.
type Section struct {
	Title string
	Flags []Flag
	Lines []string
}

// Command is what the generators read.
type Command struct {
	Name        string
	Summary     string // the help's first line, without "name: "
	Sections    []Section
	Subcommands []string
	// Values lists the words a placeholder completes to ("FMT": the
	// formats); FILE, DIR and IFACE complete to files, directories and
	// interfaces.
	Values map[string][]string
	// More are sections the manual adds after the help's, as written (a
	// subcommand's own help, say).
	More []Section
}

// Flags lists every flag of every section.
func (c *Command) Flags() []Flag {
	var out []Flag
	for _, s := range c.Sections {
		out = append(out, s.Flags...)
	}
	return out
}

// New reads help against fs. Every flag of fs must be described by an
// entry of help and every entry must name flags of fs.
func New(name, help string, fs *pflag.FlagSet, subcommands []string, values map[string][]string) (*Command, error) {
	c := &Command{Name: name, Subcommands: subcommands, Values: values}
	lines := strings.Split(strings.TrimRight(help, "\n"), "\n")
	if len(lines) == 0 {
		return nil, fmt.Errorf("empty help")
	}
	c.Summary = strings.TrimPrefix(lines[0], name+": ")
	described := map[string]bool{}
	var sec *Section
	for i := 1; i < len(lines); i++ {
		l := lines[i]
		switch {
		case l == "":
			if sec != nil && len(sec.Lines) > 0 {
				sec.Lines = append(sec.Lines, "")
			}
			continue
		case !strings.HasPrefix(l, " ") && strings.HasSuffix(l, ":"):
			c.Sections = append(c.Sections, Section{Title: strings.TrimSuffix(l, ":")})
			sec = &c.Sections[len(c.Sections)-1]
			continue
		case sec == nil:
			return nil, fmt.Errorf("help line %d: text before the first section: %q", i+1, l)
		}
		if len(sec.Flags) == 0 && len(sec.Lines) > 0 || !isEntry(l) {
			// (a section is a flag section when its first line is an entry)
			if len(sec.Flags) > 0 && strings.HasPrefix(l, strings.Repeat(" ", DescColumn)) {
				f := &sec.Flags[len(sec.Flags)-1]
				f.Help += " " + strings.TrimSpace(l)
				continue
			}
			sec.Lines = append(sec.Lines, l)
			continue
		}
		flags, err := parseEntry(l, fs)
		if err != nil {
			return nil, fmt.Errorf("help line %d: %w", i+1, err)
		}
		for _, f := range flags {
			described[f.Long] = true
		}
		sec.Flags = append(sec.Flags, flags...)
	}
	for i := range c.Sections {
		s := &c.Sections[i]
		for len(s.Lines) > 0 && s.Lines[len(s.Lines)-1] == "" {
			s.Lines = s.Lines[:len(s.Lines)-1]
		}
	}
	var missing []string
	fs.VisitAll(func(f *pflag.Flag) {
		if !described[f.Name] {
			missing = append(missing, "--"+f.Name)
		}
	})
	if len(missing) > 0 {
		return nil, fmt.Errorf("flags not described in the help: %s", strings.Join(missing, ", "))
	}
	return c, nil
}

// isEntry reports whether a help line starts a flag entry.
func isEntry(l string) bool {
	return len(l) > DescColumn && (strings.HasPrefix(l, "  -") || strings.HasPrefix(l, "      -"))
}

// parseEntry reads "  -r, --read FILE         text" into the flags it
// names (one, or several for "  -n, -v").
func parseEntry(l string, fs *pflag.FlagSet) ([]Flag, error) {
	left, help := l[:DescColumn], strings.TrimSpace(l[DescColumn:])
	if left[DescColumn-1] != ' ' {
		return nil, fmt.Errorf("flag entry %q: description does not start at column %d", strings.TrimSpace(left), DescColumn)
	}
	var names []*pflag.Flag
	arg, optional := "", false
	for _, tok := range strings.Fields(strings.ReplaceAll(left, ",", " ")) {
		switch {
		case strings.HasPrefix(tok, "--"):
			name := strings.TrimPrefix(tok, "--")
			if n, a, ok := strings.Cut(name, "[="); ok {
				name, arg, optional = n, strings.TrimSuffix(a, "]"), true
			}
			f := fs.Lookup(name)
			if f == nil {
				return nil, fmt.Errorf("the help describes --%s, which is not a flag", name)
			}
			if len(names) > 0 && names[len(names)-1].Shorthand != "" && names[len(names)-1].Name != f.Name {
				return nil, fmt.Errorf("-%s is not the short form of --%s", names[len(names)-1].Shorthand, name)
			}
			if len(names) == 0 || names[len(names)-1] != f {
				names = append(names, f)
			}
		case strings.HasPrefix(tok, "-") && len(tok) == 2:
			f := fs.ShorthandLookup(tok[1:])
			if f == nil {
				return nil, fmt.Errorf("the help describes %s, which is not a flag", tok)
			}
			names = append(names, f)
		default:
			arg = tok
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("flag entry %q names no flag", strings.TrimSpace(left))
	}
	var out []Flag
	for _, f := range names {
		takes := f.Value.Type() != "bool"
		if takes != (arg != "") {
			return nil, fmt.Errorf("--%s: the help gives it the value %q, the parser %s", f.Name, arg, map[bool]string{true: "takes a value", false: "takes none"}[takes])
		}
		out = append(out, Flag{Long: f.Name, Short: f.Shorthand, Arg: arg, OptionalArg: optional || f.NoOptDefVal != "" && takes,
			Repeatable: strings.HasSuffix(f.Value.Type(), "Array"), Help: help})
	}
	return out, nil
}

// kind is how a placeholder's value completes.
func (c *Command) kind(arg string) (k string, words []string) {
	base, _, _ := strings.Cut(arg, "[")
	if w, ok := c.Values[base]; ok {
		return "words", w
	}
	switch base {
	case "FILE", "FILE...":
		return "file", nil
	case "DIR":
		return "dir", nil
	case "IFACE":
		return "iface", nil
	}
	return "", nil
}

// short is the first clause of a flag's help, for the shells' one-line
// descriptions.
func short(help string) string {
	s := help
	for _, sep := range []string{"; ", ". ", " (", ": "} {
		if i := strings.Index(s, sep); i > 0 {
			s = s[:i]
		}
	}
	if r := []rune(s); len(r) > 60 {
		s = string(r[:59]) + "…"
	}
	return strings.TrimSuffix(s, ".")
}

// sortedFlags is every flag, by long name.
func (c *Command) sortedFlags() []Flag {
	fs := c.Flags()
	slices.SortFunc(fs, func(a, b Flag) int { return strings.Compare(a.Long, b.Long) })
	return fs
}
