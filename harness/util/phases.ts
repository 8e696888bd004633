/** Times the named phases of a long job (a build): `timed(name, work)` records each phase's seconds in `phases`. */
export function phaseTimer(): { phases: Record<string, number>; timed: <T>(phase: string, work: () => Promise<T>) => Promise<T> } {
  const phases: Record<string, number> = {};
  const timed = async <T>(phase: string, work: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    try {
      return await work();
    } finally {
      phases[phase] = (Date.now() - t0) / 1000;
    }
  };
  return { phases, timed };
}
