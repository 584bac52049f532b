/**
 * @module One nft transaction, built from the difference between what a Service had in the
 * table and what it should have now: only the chains whose rules changed are flushed and
 * refilled, only the map elements that changed are deleted or added, so adding one Service
 * among thousands touches nothing else. Commands are grouped so every reference is valid
 * when nft meets it (chains and sets exist before rules and elements use them; sets are
 * deleted after the rules that used them are gone). Chains no longer wanted are flushed
 * here and deleted by a later transaction: kernels before 6.2 notice only a moment later
 * that a chain lost its last map-element reference (upstream kube-proxy does the same).
 */
import { T, type MapElement, type RenderedService } from "./render.ts";

/** The commands of one transaction, in the order nft must run them. */
export class Transaction {
  private readonly createChains: string[] = [];
  private readonly createSets: string[] = [];
  private readonly flushChains: string[] = [];
  private readonly rules: string[] = [];
  private readonly deleteElements: string[] = [];
  private readonly addElements: string[] = [];
  private readonly deleteSets: string[] = [];
  private readonly deleteChains: string[] = [];
  /** Chains flushed because nothing uses them any more (delete them later). */
  readonly staleChains: string[] = [];
  /** Chains created or refilled (no longer stale if they were). */
  readonly liveChains: string[] = [];
  /** Commands placed before everything else (the full sync's table re-creation). */
  readonly prologue: string[] = [];

  get empty(): boolean {
    return (
      this.prologue.length +
        this.createChains.length +
        this.createSets.length +
        this.flushChains.length +
        this.rules.length +
        this.deleteElements.length +
        this.addElements.length +
        this.deleteSets.length +
        this.deleteChains.length ===
      0
    );
  }

  addChain(name: string, rules: readonly string[]): void {
    this.createChains.push(`add chain ${T} ${name}`);
    this.fill(name, rules);
  }

  replaceChain(name: string, rules: readonly string[]): void {
    this.flushChains.push(`flush chain ${T} ${name}`);
    this.fill(name, rules);
  }

  private fill(name: string, rules: readonly string[]): void {
    this.liveChains.push(name);
    for (const r of rules) this.rules.push(`add rule ${T} ${name} ${r}`);
  }

  retireChain(name: string): void {
    this.flushChains.push(`flush chain ${T} ${name}`);
    this.staleChains.push(name);
  }

  deleteChain(name: string): void {
    this.deleteChains.push(`delete chain ${T} ${name}`);
  }

  addSet(name: string, decl: string): void {
    this.createSets.push(`add set ${T} ${name} ${decl}`);
  }

  deleteSet(name: string): void {
    this.deleteSets.push(`delete set ${T} ${name}`);
  }

  addElement(e: MapElement): void {
    this.addElements.push(
      e.value
        ? `add element ${T} ${e.map} { ${e.key} : ${e.value} }`
        : `add element ${T} ${e.map} { ${e.key} }`,
    );
  }

  deleteElement(e: MapElement): void {
    this.deleteElements.push(`delete element ${T} ${e.map} { ${e.key} }`);
  }

  /** The nft script, one command a line. */
  text(): string {
    return (
      [
        ...this.prologue,
        ...this.createChains,
        ...this.createSets,
        ...this.flushChains,
        ...this.rules,
        ...this.deleteElements,
        ...this.addElements,
        ...this.deleteSets,
        ...this.deleteChains,
      ].join("\n") + "\n"
    );
  }
}

const EMPTY: RenderedService = { chains: new Map(), sets: new Map(), elements: new Map() };

function sameRules(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Adds to `tx` what turns `prev` (what the table holds for one Service; undefined: nothing)
 * into `next` (undefined: the Service is gone). Unchanged chains, sets and elements produce
 * no command.
 */
export function diffService(
  prev: RenderedService | undefined,
  next: RenderedService | undefined,
  tx: Transaction,
): void {
  const a = prev ?? EMPTY;
  const b = next ?? EMPTY;
  for (const [name, decl] of b.sets) if (!a.sets.has(name)) tx.addSet(name, decl);
  for (const [name, rules] of b.chains) {
    const old = a.chains.get(name);
    if (!old) tx.addChain(name, rules);
    else if (!sameRules(old, rules)) tx.replaceChain(name, rules);
  }
  for (const name of a.chains.keys()) if (!b.chains.has(name)) tx.retireChain(name);
  for (const [key, e] of b.elements) {
    const old = a.elements.get(key);
    if (!old) tx.addElement(e);
    else if (old.value !== e.value) {
      tx.deleteElement(old);
      tx.addElement(e);
    }
  }
  for (const [key, e] of a.elements) if (!b.elements.has(key)) tx.deleteElement(e);
  for (const name of a.sets.keys()) if (!b.sets.has(name)) tx.deleteSet(name);
}
