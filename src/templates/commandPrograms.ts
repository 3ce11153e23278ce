import { parse } from 'shell-quote';

// Which programs a template's shell command lines run, read without running them: the dry run
// checks each is on this host, so a template that needs `bun` does not pass as `ok` where there is
// none. A reading, not a shell: words it cannot know statically (expansions, relative paths) are
// left to run time.

/** Builtins and keywords of sh/bash: never looked up on PATH. */
const BUILTINS = new Set(
  (
    ': . [ [[ ]] alias bg break builtin cd continue declare echo eval exit export false fg getopts ' +
    'hash jobs kill let local printf pwd read readonly return set shift source test times trap true ' +
    'type typeset ulimit umask unalias unset wait case esac fi done in function } ]] select'
  ).split(' '),
);
/** Keywords after which the next word is a command again. */
const COMMAND_KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'while', 'until', 'do', '!', '{']);
/** Programs that run the program named after them (their own options and assignments skipped). */
const WRAPPERS = new Set(['exec', 'command', 'nohup', 'env', 'time', 'nice', 'setsid']);
/** Operators after which a new simple command starts; others (redirections) take a file next. */
const SEPARATORS = new Set([';', '&', '&&', '||', '|', '|&', '(', ')', ';;']);

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

/**
 * The programs a command line runs by name: the first word of each simple command, past leading
 * `VAR=value` assignments, keywords and wrappers such as `exec` or `env`. Builtins, words holding an
 * expansion (`$X`, `$(…)`) and paths (`./bin/x`, which exist only in the worktree) are left out.
 */
export function programsOf(commandLine: string): string[] {
  const programs = new Set<string>();
  // shell-quote reads a newline as a space: split lines first (a trailing `\` continues a line).
  for (const line of commandLine.replace(/\\\n/g, ' ').split('\n')) {
    let expectCommand = true;
    let afterWrapper = false;
    let skipNext = false;
    // `$(…)`: its first word is a command; after it, the reading goes on where it was.
    const substitutions: boolean[] = [];
    let opensSubstitution: boolean | undefined;
    for (const token of parse(line, (name) => `$${name}`)) {
      if (typeof token !== 'string') {
        if ('comment' in token) break;
        if (token.op === '(' && opensSubstitution !== undefined) substitutions.push(opensSubstitution);
        if (token.op === ')' && substitutions.length) {
          expectCommand = substitutions.pop() ?? false;
          continue;
        }
        opensSubstitution = undefined;
        if (token.op === 'glob') expectCommand = false;
        else if (SEPARATORS.has(token.op)) [expectCommand, afterWrapper] = [true, false];
        else skipNext = true; // a redirection: its target comes next
        continue;
      }
      // A word ending in `$` before `(`: what to expect once the substitution closes.
      opensSubstitution = token.endsWith('$') ? expectCommand && ASSIGNMENT.test(token) : undefined;
      if (skipNext) {
        skipNext = false;
        continue;
      }
      if (!expectCommand || ASSIGNMENT.test(token) || COMMAND_KEYWORDS.has(token)) continue;
      // `env -i X=1 node`, `nice -n 5 node`: a wrapper's options and their numbers come first.
      if (afterWrapper && (token.startsWith('-') || /^\d+$/.test(token))) continue;
      if (WRAPPERS.has(token)) {
        afterWrapper = true;
        continue;
      }
      expectCommand = false;
      if (BUILTINS.has(token) || /[$`]/.test(token) || token.includes('/')) continue;
      programs.add(token);
    }
  }
  return [...programs];
}
