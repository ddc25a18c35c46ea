import * as library from "@huggingface/tokenizers";

/**
 * The parts of @huggingface/tokenizers gpux uses. Its published .d.ts files re-export with extensionless
 * paths that TypeScript's NodeNext resolution cannot follow, so the shapes are declared here.
 */
export interface LibraryNormalizer {
  normalize(text: string): string;
}
export interface LibraryPreTokenizer {
  /** `section_index` 0: the text's first section (Metaspace's prepend_scheme "first" prefixes only that one). */
  pre_tokenize_text(text: string, options?: { section_index?: number }): string[];
}
export interface LibraryModel {
  _call(tokens: string[]): string[];
  tokens_to_ids: Map<string, number>;
}
export interface LibraryDecoder {
  decode(tokens: string[]): string;
}
export interface LibraryTokenizer {
  model: LibraryModel;
  pre_tokenizer: LibraryPreTokenizer | null;
  decoder: LibraryDecoder | null;
  token_to_id(token: string): number | undefined;
  id_to_token(id: number): string | undefined;
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
}

type NormalizerClass = new (config: unknown) => LibraryNormalizer;

/** A normaliser class of the library by its tokenizer.json type name (BertNormalizer, NFC, …). */
export function normalizerClass(type: string): NormalizerClass | undefined {
  const names: Record<string, string> = {
    BertNormalizer: "BertNormalizer",
    Lowercase: "LowercaseNormalizer",
    NFC: "NFCNormalizer",
    NFD: "NFDNormalizer",
    NFKC: "NFKCNormalizer",
    NFKD: "NFKDNormalizer",
    StripAccents: "StripAccentsNormalizer",
    Precompiled: "PrecompiledNormalizer",
  };
  const name = names[type];
  return name ? ((library as unknown as Record<string, NormalizerClass>)[name] ?? undefined) : undefined;
}

/** Build the library's tokenizer from tokenizer.json and tokenizer_config.json. */
export function createLibraryTokenizer(tokenizerJson: object, tokenizerConfig: object): LibraryTokenizer {
  return new library.Tokenizer(tokenizerJson, tokenizerConfig) as unknown as LibraryTokenizer;
}
