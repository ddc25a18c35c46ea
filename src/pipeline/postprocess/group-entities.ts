/** Token classification results, grouped as transformers' token-classification pipeline groups them. */

export type AggregationStrategy = "none" | "simple" | "first" | "average" | "max";

/** One token with its class scores, before grouping. */
export interface TokenScores {
  word: string;
  scores: number[];
  start: number;
  end: number;
  index: number;
  isSubword: boolean;
}

export interface TokenEntity {
  entity: string;
  score: number;
  index: number;
  word: string;
  start: number;
  end: number;
}

export interface EntityGroup {
  entity_group: string;
  score: number;
  word: string;
  start: number;
  end: number;
}

type Scored = { entity: string; score: number; word: string; start: number; end: number; index?: number };

function best(scores: readonly number[]): number {
  let top = 0;
  for (let i = 1; i < scores.length; i++) if ((scores[i] as number) > (scores[top] as number)) top = i;
  return top;
}

function aggregateWord(
  tokens: TokenScores[],
  strategy: "first" | "average" | "max",
  labels: readonly string[],
  join: (words: string[]) => string,
): Scored {
  let scores: number[];
  if (strategy === "first") scores = (tokens[0] as TokenScores).scores;
  else if (strategy === "max") {
    scores = tokens.reduce((a, b) => (Math.max(...b.scores) > Math.max(...a.scores) ? b : a)).scores;
  } else {
    const width = (tokens[0] as TokenScores).scores.length;
    scores = Array.from(
      { length: width },
      (_, i) => tokens.reduce((s, t) => s + (t.scores[i] as number), 0) / tokens.length,
    );
  }
  const top = best(scores);
  return {
    entity: labels[top] as string,
    score: scores[top] as number,
    word: join(tokens.map((t) => t.word)),
    start: (tokens[0] as TokenScores).start,
    end: (tokens[tokens.length - 1] as TokenScores).end,
  };
}

function tagOf(entity: string): { bi: "B" | "I"; tag: string } {
  if (entity.startsWith("B-")) return { bi: "B", tag: entity.slice(2) };
  if (entity.startsWith("I-")) return { bi: "I", tag: entity.slice(2) };
  return { bi: "I", tag: entity };
}

function groupSubEntities(entities: Scored[], join: (words: string[]) => string): EntityGroup {
  const first = entities[0] as Scored;
  const dash = first.entity.indexOf("-");
  return {
    entity_group: dash >= 0 ? first.entity.slice(dash + 1) : first.entity,
    score: entities.reduce((s, e) => s + e.score, 0) / entities.length,
    word: join(entities.map((e) => e.word)),
    start: first.start,
    end: (entities[entities.length - 1] as Scored).end,
  };
}

function groupEntities(entities: Scored[], join: (words: string[]) => string): EntityGroup[] {
  const groups: EntityGroup[] = [];
  let current: Scored[] = [];
  for (const entity of entities) {
    if (current.length === 0) {
      current.push(entity);
      continue;
    }
    const { bi, tag } = tagOf(entity.entity);
    const last = tagOf((current[current.length - 1] as Scored).entity);
    if (tag === last.tag && bi !== "B") current.push(entity);
    else {
      groups.push(groupSubEntities(current, join));
      current = [entity];
    }
  }
  if (current.length > 0) groups.push(groupSubEntities(current, join));
  return groups;
}

/**
 * Entities from per-token scores: "none" lists tokens, "simple" groups adjacent tokens of one entity, and
 * "first" / "average" / "max" first make each word agree on one label. Labels in `ignore` are dropped.
 */
export function groupTokens(
  tokens: TokenScores[],
  strategy: AggregationStrategy,
  labels: readonly string[],
  join: (words: string[]) => string,
  ignore: readonly string[] = ["O"],
): Array<TokenEntity | EntityGroup> {
  let scored: Scored[];
  if (strategy === "none" || strategy === "simple") {
    scored = tokens.map((token) => {
      const top = best(token.scores);
      return {
        entity: labels[top] as string,
        score: token.scores[top] as number,
        index: token.index,
        word: token.word,
        start: token.start,
        end: token.end,
      };
    });
  } else {
    scored = [];
    let word: TokenScores[] = [];
    for (const token of tokens) {
      if (word.length > 0 && !token.isSubword) {
        scored.push(aggregateWord(word, strategy, labels, join));
        word = [];
      }
      word.push(token);
    }
    if (word.length > 0) scored.push(aggregateWord(word, strategy, labels, join));
  }
  if (strategy === "none") {
    return scored
      .filter((e) => !ignore.includes(e.entity))
      .map((e) => ({
        entity: e.entity,
        score: e.score,
        index: e.index as number,
        word: e.word,
        start: e.start,
        end: e.end,
      }));
  }
  return groupEntities(scored, join).filter((group) => !ignore.includes(group.entity_group));
}
