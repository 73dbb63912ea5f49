package clidoc

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Shells are the shells Completion writes for.
var Shells = []string{"bash", "zsh", "fish"}

// Completion writes the completion script for shell (one of Shells).
func (c *Command) Completion(w io.Writer, shell string) error {
	var b strings.Builder
	switch shell {
	case "bash":
		c.bash(&b)
	case "zsh":
		c.zsh(&b)
	case "fish":
		c.fish(&b)
	default:
		return fmt.Errorf("no completion for shell %q (want one of %s)", shell, strings.Join(Shells, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// spellings is "-r|--read", as a case pattern.
func (f Flag) spellings(sep string) string {
	var s []string
	if f.Short != "" {
		s = append(s, "-"+f.Short)
	}
	if f.Long != "" {
		s = append(s, "--"+f.Long)
	}
	return strings.Join(s, sep)
}

func (c *Command) bash(b *strings.Builder) {
	fn := "_" + c.Name
	fmt.Fprintf(b, "# bash completion for %[1]s: source <(%[1]s completion bash)\n", c.Name)
	fmt.Fprintf(b, "%s() {\n", fn)
	b.WriteString("    local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n")
	b.WriteString("    case \"$prev\" in\n")
	var all []string
	for _, f := range c.sortedFlags() {
		all = append(all, strings.Fields(f.spellings(" "))...)
		if f.Arg == "" || f.OptionalArg {
			continue
		}
		k, words := c.kind(f.Arg)
		var reply string
		switch k {
		case "file":
			reply = `COMPREPLY=($(compgen -f -- "$cur"))`
		case "dir":
			reply = `COMPREPLY=($(compgen -d -- "$cur"))`
		case "iface":
			reply = `COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur"))`
		case "words":
			reply = fmt.Sprintf(`COMPREPLY=($(compgen -W "%s" -- "$cur"))`, strings.Join(words, " "))
		default:
			reply = "COMPREPLY=()"
		}
		fmt.Fprintf(b, "        %s) %s; return ;;\n", f.spellings("|"), reply)
	}
	b.WriteString("    esac\n")
	fmt.Fprintf(b, "    if [[ $COMP_CWORD -eq 1 && \"$cur\" != -* ]]; then\n")
	fmt.Fprintf(b, "        COMPREPLY=($(compgen -W \"%s\" -- \"$cur\") $(compgen -f -- \"$cur\"))\n", strings.Join(c.Subcommands, " "))
	b.WriteString("        return\n    fi\n")
	b.WriteString("    case \"$cur\" in\n")
	fmt.Fprintf(b, "        -*) COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")) ;;\n", strings.Join(all, " "))
	b.WriteString("        *) COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n")
	b.WriteString("    esac\n}\n")
	fmt.Fprintf(b, "complete -o filenames -F %s %s\n", fn, c.Name)
}

// zshQuote escapes a description for a _arguments spec in single quotes.
func zshQuote(s string) string {
	return strings.NewReplacer("'", `'\''`, "[", `\[`, "]", `\]`, ":", `\:`, "\\", `\\`).Replace(s)
}

func (c *Command) zsh(b *strings.Builder) {
	fn := "_" + c.Name
	fmt.Fprintf(b, "#compdef %[1]s\n# zsh completion for %[1]s: source <(%[1]s completion zsh), or save as %[2]s in $fpath\n", c.Name, fn)
	fmt.Fprintf(b, "%s() {\n    local -a subcommands=(%s)\n", fn, strings.Join(c.Subcommands, " "))
	b.WriteString("    _arguments -s -S \\\n")
	for _, f := range c.sortedFlags() {
		action := ""
		if f.Arg != "" {
			k, words := c.kind(f.Arg)
			switch k {
			case "file":
				action = "_files"
			case "dir":
				action = "_files -/"
			case "iface":
				action = "_net_interfaces"
			case "words":
				action = "(" + strings.Join(words, " ") + ")"
			default:
				action = " "
			}
			colon := ":"
			if f.OptionalArg {
				colon = "::"
			}
			base, _, _ := strings.Cut(f.Arg, "[")
			action = colon + strings.ToLower(strings.TrimSuffix(base, "...")) + ":" + action
		}
		desc := "[" + zshQuote(short(f.Help)) + "]"
		eq := ""
		if f.OptionalArg {
			eq = "=-"
		}
		rep := ""
		if f.Repeatable {
			rep = "*"
		}
		switch {
		case f.Short != "" && f.Long != "":
			excl := ""
			if !f.Repeatable {
				excl = "'(-" + f.Short + " --" + f.Long + ")'"
			} else {
				excl = "'*'"
			}
			fmt.Fprintf(b, "        %s{-%s,--%s%s}'%s%s' \\\n", excl, f.Short, f.Long, eq, desc, zshQuote0(action))
		case f.Long != "":
			fmt.Fprintf(b, "        '%s--%s%s%s%s' \\\n", rep, f.Long, eq, desc, zshQuote0(action))
		default:
			fmt.Fprintf(b, "        '-%s%s%s' \\\n", f.Short, desc, zshQuote0(action))
		}
	}
	b.WriteString("        '1: :->first' \\\n        '*:capture file:_files'\n")
	b.WriteString("    [[ $state == first ]] && { _describe subcommand subcommands; _files; }\n}\n")
	fmt.Fprintf(b, "if [[ $funcstack[1] == %[1]s ]]; then %[1]s \"$@\"; else compdef %[1]s %[2]s; fi\n", fn, c.Name)
}

// zshQuote0 escapes an action for a single-quoted spec (only quotes).
func zshQuote0(s string) string { return strings.ReplaceAll(s, "'", `'\''`) }

// fishQuote single-quotes s for fish.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) + "'"
}

func (c *Command) fish(b *strings.Builder) {
	fmt.Fprintf(b, "# fish completion for %[1]s: %[1]s completion fish | source\n", c.Name)
	fmt.Fprintf(b, "complete -c %s -n __fish_use_subcommand -x -a %s\n", c.Name, fishQuote(strings.Join(c.Subcommands, " ")))
	for _, f := range c.sortedFlags() {
		var parts []string
		parts = append(parts, "complete -c "+c.Name)
		if f.Short != "" {
			parts = append(parts, "-s "+f.Short)
		}
		if f.Long != "" {
			parts = append(parts, "-l "+f.Long)
		}
		if f.Arg != "" && !f.OptionalArg {
			switch k, words := c.kind(f.Arg); k {
			case "file":
				parts = append(parts, "-r -F")
			case "dir":
				parts = append(parts, "-x -a '(__fish_complete_directories)'")
			case "iface":
				parts = append(parts, "-x -a '(__fish_print_interfaces)'")
			case "words":
				parts = append(parts, "-x -a "+fishQuote(strings.Join(words, " ")))
			default:
				parts = append(parts, "-x")
			}
		}
		parts = append(parts, "-d "+fishQuote(short(f.Help)))
		b.WriteString(strings.Join(parts, " ") + "\n")
	}
}

// roff escapes text for a man page line.
func roff(s string) string {
	s = strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// Man writes the manual page (man(7) macros) for section 1.
func (c *Command) Man(w io.Writer, version string) error {
	var b strings.Builder
	up := strings.ToUpper(c.Name)
	fmt.Fprintf(&b, ".TH %s 1 \"\" %q \"User Commands\"\n", up, c.Name+" "+version)
	fmt.Fprintf(&b, ".SH NAME\n%s \\- %s\n", c.Name, roff(c.Summary))
	for _, s := range append(slices.Clone(c.Sections), c.More...) {
		title := strings.ToUpper(s.Title)
		if title == "USAGE" {
			title = "SYNOPSIS"
		}
		if len(s.Flags) == 0 {
			fmt.Fprintf(&b, ".SH %s\n.nf\n", title)
			for _, l := range s.Lines {
				fmt.Fprintln(&b, roff(strings.TrimPrefix(l, "  ")))
			}
			b.WriteString(".fi\n")
			continue
		}
		if !strings.Contains(b.String(), ".SH OPTIONS\n") {
			b.WriteString(".SH OPTIONS\n")
		}
		fmt.Fprintf(&b, ".SS %s\n", roff(s.Title))
		for i := 0; i < len(s.Flags); i++ {
			f := s.Flags[i]
			var names []string
			// "-n, -v": flags with one description are listed together.
			for j := i; j < len(s.Flags) && s.Flags[j].Help == f.Help; j++ {
				if s.Flags[j].Short != "" {
					names = append(names, `\fB\-`+s.Flags[j].Short+`\fR`)
				}
				names = append(names, `\fB\-\-`+roff(s.Flags[j].Long)+`\fR`)
				i = j
			}
			arg := ""
			if f.Arg != "" {
				arg = " \\fI" + roff(f.Arg) + "\\fR"
				if f.OptionalArg {
					arg = "[=\\fI" + roff(f.Arg) + "\\fR]"
				}
			}
			fmt.Fprintf(&b, ".TP\n%s%s\n", strings.Join(names, ", "), arg)
			for _, l := range fill(f.Help, 72) {
				fmt.Fprintln(&b, roff(l))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// fill breaks text into source lines of at most n bytes at spaces (roff
// fills them again; short source lines keep diffs and lint quiet).
func fill(text string, n int) []string {
	var lines []string
	cur := ""
	for _, w := range strings.Fields(text) {
		if cur != "" && len(cur)+1+len(w) > n {
			lines = append(lines, cur)
			cur = ""
		}
		if cur != "" {
			cur += " "
		}
		cur += w
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

// Run answers "completion SHELL" and "man" (args without the command's
// name), the subcommands a command built on this package offers.
func (c *Command) Run(w io.Writer, args []string, version string) error {
	switch {
	case len(args) == 1 && args[0] == "man":
		return c.Man(w, version)
	case len(args) == 2 && args[0] == "completion":
		return c.Completion(w, args[1])
	}
	return fmt.Errorf("unexpected %q (want %s completion %s, or %s man)", args, c.Name, strings.Join(Shells, "|"), c.Name)
}
