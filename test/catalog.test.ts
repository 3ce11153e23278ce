import { describe, expect, it } from 'vitest';
import {
  isServiceStep,
  PLAN_PARTS,
  parseServiceStep,
  provisioningSteps,
  Step,
  servicePhases,
  serviceStep,
  stepsToRedo,
  undoneBy,
} from '../src/cells/catalog.js';
import { cellEventShapes, parseCellEvent } from '../src/cells/eventShapes.js';

// The one catalog every client reads step names from, and the event shapes every client parses
// with: what the dashboard, the CLI and the MCP server rely on instead of matching strings by hand.

describe('the step catalog', () => {
  it('lists the provisioning steps in order, with the compensation of each', () => {
    expect(provisioningSteps).toEqual(['validate', 'worktree', 'ports', 'environment', 'services', 'prompt']);
    expect(undoneBy).toEqual({ worktree: 'worktree', ports: 'ports', environment: 'teardown' });
    expect(Step.cleanup).toBe('cleanup');
  });

  it('names service sub-steps and parses them back; nothing else is a service step', () => {
    for (const phase of servicePhases) {
      expect(parseServiceStep(serviceStep('api-2', phase))).toEqual({ service: 'api-2', phase });
    }
    expect(parseServiceStep(serviceStep('web'))).toEqual({ service: 'web' });
    for (const name of [
      ...provisioningSteps,
      Step.teardown,
      'services.',
      'services.web.stop',
      'servicesx.web',
    ]) {
      expect(isServiceStep(name), name).toBe(false);
    }
  });

  it('says which steps a re-plan runs again for each changed plan part', () => {
    expect([...stepsToRedo(['services'])].sort()).toEqual(['environment', 'ports']);
    expect([...stepsToRedo(['setup'])]).toEqual(['environment']);
    expect([...stepsToRedo(['prompts', 'includePatterns'])]).toEqual([]);
    expect(PLAN_PARTS).toContain('options');
  });
});

describe('the event shapes', () => {
  it('parse each kind of event and refuse data that does not fit its kind', () => {
    expect(parseCellEvent('status', { status: 'ready' }, '7')).toEqual({
      id: '7',
      event: 'status',
      data: { status: 'ready' },
    });
    expect(parseCellEvent('log', { service: 'web', line: 'hi' })).toEqual({
      event: 'log',
      data: { service: 'web', line: 'hi' },
    });
    expect(parseCellEvent('status', { status: 'sleeping' }, '8')).toBeUndefined();
    expect(parseCellEvent('step', { name: 'ports' }, '9')).toBeUndefined();
    expect(parseCellEvent('telemetry', {}, '10')).toBeUndefined();
    expect(Object.keys(cellEventShapes).sort()).toEqual(
      ['action', 'archive', 'end', 'log', 'notification', 'operation', 'plan', 'status', 'step'].sort(),
    );
  });
});
