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
 * The simple commands of a command line, each as its words from the program on (past leading
 * `VAR=value` assignments, keywords and wrappers such as `exec` or `env`; redirections left out).
 * Builtins (`cd`) are commands too; words holding an expansion are kept as written (`$X`).
 */
export function commandsOf(commandLine: string): string[][] {
  const commands: string[][] = [];
  // shell-quote reads a newline as a space: split lines first (a trailing `\` continues a line).
  for (const line of commandLine.replace(/\\\n/g, ' ').split('\n')) {
    let expectCommand = true;
    let afterWrapper = false;
    let skipNext = false;
    let current: string[] | undefined;
    // `$(…)`: its first word is a command; after it, the reading goes on where it was.
    const substitutions: Array<{ expectCommand: boolean; current: string[] | undefined }> = [];
    let opensSubstitution: boolean | undefined;
    for (const token of parse(line, (name) => `$${name}`)) {
      if (typeof token !== 'string') {
        if ('comment' in token) break;
        if (token.op === '(' && opensSubstitution !== undefined) {
          substitutions.push({ expectCommand: opensSubstitution, current });
          current = undefined;
        }
        if (token.op === ')' && substitutions.length) {
          const outer = substitutions.pop();
          [expectCommand, current] = [outer?.expectCommand ?? false, outer?.current];
          continue;
        }
        opensSubstitution = undefined;
        if (token.op === 'glob') {
          expectCommand = false;
          current?.push(token.pattern);
        } else if (SEPARATORS.has(token.op))
          [expectCommand, afterWrapper, current] = [true, false, undefined];
        else skipNext = true; // a redirection: its target comes next
        continue;
      }
      // A word ending in `$` before `(`: what to expect once the substitution closes.
      opensSubstitution = token.endsWith('$') ? expectCommand && ASSIGNMENT.test(token) : undefined;
      if (skipNext) {
        skipNext = false;
        continue;
      }
      if (!expectCommand) {
        current?.push(token);
        continue;
      }
      if (ASSIGNMENT.test(token) || COMMAND_KEYWORDS.has(token)) continue;
      // `env -i X=1 node`, `nice -n 5 node`: a wrapper's options and their numbers come first.
      if (afterWrapper && (token.startsWith('-') || /^\d+$/.test(token))) continue;
      if (WRAPPERS.has(token)) {
        afterWrapper = true;
        continue;
      }
      expectCommand = false;
      current = [token];
      commands.push(current);
    }
  }
  return commands;
}

/**
 * The programs a command line runs by name: the first word of each simple command (commandsOf).
 * Builtins, words holding an expansion (`$X`, `$(…)`) and paths (`./bin/x`, which exist only in the
 * worktree) are left out.
 */
export function programsOf(commandLine: string): string[] {
  const programs = new Set<string>();
  for (const [program = ''] of commandsOf(commandLine)) {
    if (BUILTINS.has(program) || /[$`]/.test(program) || program.includes('/')) continue;
    programs.add(program);
  }
  return [...programs];
}
