/**
 * The metastore: streams and tables known to the engine. Plain data, read by the analyzer, changed
 * only by applying DDL commands (so replaying the command topic rebuilds it exactly).
 */
import type { SourceDefinition } from '../planner/steps.ts';

export interface MetaStoreView {
  getSource(name: string): SourceDefinition | undefined;
  allSources(): readonly SourceDefinition[];
}

export class MetaStore implements MetaStoreView {
  private readonly sources = new Map<string, SourceDefinition>();

  getSource(name: string): SourceDefinition | undefined {
    return this.sources.get(name);
  }

  allSources(): readonly SourceDefinition[] {
    return [...this.sources.values()];
  }

  put(source: SourceDefinition): void {
    this.sources.set(source.name, source);
  }

  delete(name: string): boolean {
    return this.sources.delete(name);
  }

  /** A source whose name differs only by case, for "did you mean" hints. */
  findCaseInsensitive(name: string): SourceDefinition | undefined {
    const upper = name.toUpperCase();
    return [...this.sources.values()].find((s) => s.name.toUpperCase() === upper && s.name !== name);
  }
}
