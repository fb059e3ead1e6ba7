"""In-context LLM generation: prompts, parsing, constrained decoding, HTTP client, cache, servers.

The generator kind ``llm_icl`` (:mod:`synthrisk.generators.llm_icl`) composes these modules:

* :mod:`~synthrisk.llm.prompt` and :mod:`~synthrisk.llm.stats`: the chat prompts (``study``, the
  default, and ``guarded``; an optional no-copy sentence), statistics of each prompt's chunk, a
  CSV-continuation prompt for base models (completion style), and the batching of seed rows;
* :mod:`~synthrisk.llm.grammar`: schema-constrained decoding (GBNF, strict JSON schema);
* :mod:`~synthrisk.llm.parse`: robust parsing and validation of answers, rejections by reason;
* :mod:`~synthrisk.llm.client`: the official ``openai`` client with bounded concurrency and retries;
* :mod:`~synthrisk.llm.cache`: content-addressed on-disk response cache;
* :mod:`~synthrisk.llm.server`: launching llama.cpp / vLLM OpenAI-compatible servers;
* :mod:`~synthrisk.llm.factorial`: expansion of a ``factorial:`` generator entry into variants.
"""
