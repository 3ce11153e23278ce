import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeCellFile } from '../cells/containedFiles.js';
import { groupsWithVariable, groupsWorkingIn, isSameProcess, terminateGroup } from './processes.js';

// A worker killed with -9 between spawning a process and recording it (a service's pid row, a
// command's wait) leaves a process nobody knows about; the next attempt would start a second one.
// So before spawning, a note file is written, and the process is started with the note's path in
// its environment. The note is removed once the process is recorded (or has ended). A note found
// later means an attempt died in between: whatever runs with that note in its environment is its
// leftover, found from /proc whether or not it was recorded, and ended.

/** The variable naming the note a process was spawned under; its children inherit it. */
export const SPAWN_NOTE_VAR = 'HIVE_SPAWN_NOTE';

/** Time a leftover of a dead worker gets between SIGTERM and SIGKILL. */
const LEFTOVER_GRACE_MS = 2_000;

/** Writes the note before spawning; returns the variable to give the process. */
export async function noteSpawn(note: string): Promise<Record<string, string>> {
  await writeCellFile(note, `${process.pid}\n`);
  return { [SPAWN_NOTE_VAR]: note };
}

/** The process was recorded (or has ended): its note goes. */
export async function clearSpawnNote(note: string): Promise<void> {
  await rm(note, { force: true });
}

/**
 * Ends what an attempt that died after writing `note` left running, except the group `keep` (the
 * recorded, adopted one). True when something was ended. Without a note, nothing is read.
 */
export async function endLeftovers(note: string | undefined, keep?: number): Promise<boolean> {
  if (!note) return false;
  const content = await readFile(note, 'utf8').catch(() => undefined);
  if (content === undefined) return false;
  const groups = new Set(await groupsWithVariable(SPAWN_NOTE_VAR, note));
  // A note of an earlier version of Hive holds the command's pid and start time.
  const [pid, ticks] = content.trim().split(' ');
  if (ticks !== undefined && (await isSameProcess(Number(pid), ticks))) groups.add(Number(pid));
  groups.delete(keep ?? -1);
  for (const group of groups) await terminateGroup(group, LEFTOVER_GRACE_MS);
  await clearSpawnNote(note);
  return groups.size > 0;
}

/**
 * Every process group spawned under a note inside `folder` (a cell's metadata folder), and every
 * one working inside its worktree (a daemon that cleared its environment and left its session is
 * still found by where it runs): what must not outlive the cell's worktree.
 */
export async function endAllUnder(folder: string): Promise<number> {
  const groups = new Set([
    ...(await groupsWithVariable(SPAWN_NOTE_VAR, `${folder}/`)),
    ...(await groupsWorkingIn(path.dirname(folder))),
  ]);
  for (const group of groups) await terminateGroup(group, LEFTOVER_GRACE_MS);
  return groups.size;
}
