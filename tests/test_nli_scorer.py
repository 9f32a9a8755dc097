"""The `nli` scorer on a tiny NLI model the tests build: a WordLevel tokenizer and an ONNX
graph (embedding -> masked sum -> linear) whose only signal is a trigger word in the premise.

Each vocabulary word embeds to 0 except TRIGGER, which embeds to 1, so the pooled value is
the number of TRIGGERs in the (premise, claim) pair; the claims below never contain it, so
the logits depend on whether the premise (the chunk of source text) does.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

from summarize.corpus import segment  # noqa: E402
from summarize.models import Article, ValidationReport  # noqa: E402
from summarize.support.checks import sources_evidence  # noqa: E402
from summarize.support.retrieve import Candidate, Retrieval  # noqa: E402
from summarize.support.scorers import available, get_scorer  # noqa: E402
from summarize.support.scorers.nli import NLIModelError, NLIScorer  # noqa: E402
from summarize.support.validator import Validator  # noqa: E402

TRIGGER = "confirmed"
VOCAB = (
    "the council harbour bridge reopened to traffic on monday engineers said repairs cost "
    "less than expected officials after inspection mayor spoke about budget at length "
    "residents asked parking near station a was ."
)
WORDS = [*VOCAB.split(), TRIGGER]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]

# 3 labels, entailment NOT at index 0: with no trigger "neutral"-ish index 0 wins,
# with a trigger label 1 wins; swapping the names flips every verdict
NLI3 = {"0": "contradiction", "1": "entailment", "2": "neutral"}
NLI3_SWAPPED = {"0": "entailment", "1": "contradiction", "2": "neutral"}
W3, B3 = [0.0, 10.0, 0.0], [3.0, -5.0, 0.0]

ARTICLE = Article(
    id="a",
    text=(
        "The harbour bridge reopened to traffic on Monday. "
        "Engineers said the harbour bridge repairs cost less than expected. "
        "Officials confirmed the harbour bridge reopened after the inspection."
    ),
)
PLAIN = Article(
    id="b",
    text=(
        "The mayor spoke about the harbour bridge budget at length. "
        "Residents asked about parking near the station."
    ),
)
CLAIM = "The harbour bridge reopened."


def build_model(
    folder: Path,
    weights: list[float] = W3,
    bias: list[float] = B3,
    id2label: dict | None = NLI3,
    token_types: bool = True,
    int32: bool = False,
    tokenizer: bool = True,
) -> Path:
    """Write model.onnx, tokenizer.json and (when id2label) config.json into `folder`."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {w: i for i, w in enumerate(SPECIALS + WORDS)}
    if tokenizer:
        tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
        tok.normalizer = normalizers.Lowercase()
        tok.pre_tokenizer = pre_tokenizers.Whitespace()
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]",
            pair="[CLS] $A [SEP] $B:1 [SEP]:1",
            special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
        )
        tok.save(str(folder / "tokenizer.json"))

    n = len(weights)
    itype = TensorProto.INT32 if int32 else TensorProto.INT64
    emb = np.zeros((len(vocab), 1), dtype=np.float32)
    emb[vocab[TRIGGER], 0] = 1.0
    inits = [
        helper.make_tensor("E", TensorProto.FLOAT, emb.shape, emb.flatten().tolist()),
        helper.make_tensor("W", TensorProto.FLOAT, [1, n], weights),
        helper.make_tensor("B", TensorProto.FLOAT, [n], bias),
        helper.make_tensor("axis1", TensorProto.INT64, [1], [1]),
    ]
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if token_types else [])
    inputs = [helper.make_tensor_value_info(x, itype, ["batch", "seq"]) for x in names]
    nodes = [
        helper.make_node("Gather", ["E", "input_ids"], ["emb"], axis=0),  # [b, t, 1]
        helper.make_node("Cast", ["attention_mask"], ["mask"], to=TensorProto.FLOAT),
    ]
    if token_types:  # only the first segment (the premise) counts: the pair order matters
        inits.append(helper.make_tensor("one", TensorProto.FLOAT, [], [1.0]))
        nodes += [
            helper.make_node("Cast", ["token_type_ids"], ["types"], to=TensorProto.FLOAT),
            helper.make_node("Sub", ["one", "types"], ["first"]),
            helper.make_node("Mul", ["mask", "first"], ["weight"]),
        ]
    inits.append(helper.make_tensor("axis2", TensorProto.INT64, [1], [2]))
    nodes += [
        helper.make_node("Unsqueeze", ["weight" if token_types else "mask", "axis2"], ["w3"]),
        helper.make_node("Mul", ["emb", "w3"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "axis1"], ["pooled"], keepdims=0),  # [b, 1]
        helper.make_node("MatMul", ["pooled", "W"], ["lin"]),
        helper.make_node("Add", ["lin", "B"], ["logits"]),
    ]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", n])]
    graph = helper.make_graph(nodes, "tiny_nli", inputs, outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(folder / "model.onnx"))
    if id2label is not None:
        (folder / "config.json").write_text(json.dumps({"id2label": id2label}))
    return folder


def candidates_of(article: Article) -> list[Candidate]:
    """One candidate per sentence, in article order (the test decides the ranking)."""
    return [Candidate(sentences=[s]) for s in segment(article, "A")]


def found(candidates: list[Candidate], articles: list[Article]) -> Retrieval:
    """What the validator would hand the scorer for these candidates."""
    return Retrieval(candidates, articles, sources_evidence(articles))


def assert_quotes_exact(verdict, articles) -> None:
    by_id = {a.id: a for a in articles}
    assert verdict.spans
    for span in verdict.spans:
        assert by_id[span.article_id].text[span.start : span.end] == span.quote


def lexical_validator(scorer: NLIScorer) -> Validator:
    scorer.uses_embeddings = False  # retrieval without the MiniLM model: these tests are fast
    return Validator(scorer=scorer)


@pytest.fixture
def nli3(tmp_path: Path) -> Path:
    return build_model(tmp_path / "nli3")


def test_registered() -> None:
    assert "nli" in available()


def test_trigger_in_chunk_supports_with_exact_spans(nli3: Path) -> None:
    validator = lexical_validator(get_scorer("nli", model_path=nli3))
    verdict = validator.check(CLAIM, [ARTICLE])
    assert verdict.supported and verdict.scorer == "nli"
    assert verdict.score > 0.8  # softmax([3, 5, 0])[1] = 0.87
    assert_quotes_exact(verdict, [ARTICLE])
    assert verdict.reasons[0].startswith("supported by ")

    verdict = validator.check(CLAIM, [PLAIN])  # no trigger anywhere
    assert not verdict.supported and verdict.score < 0.01
    assert "does not entail" in " ".join(verdict.reasons)
    assert_quotes_exact(verdict, [PLAIN])


def test_label_mapping_is_honoured(tmp_path: Path) -> None:
    swapped = NLIScorer(build_model(tmp_path / "swapped", id2label=NLI3_SWAPPED))
    straight = NLIScorer(build_model(tmp_path / "straight"))
    with_trigger, without = candidates_of(ARTICLE), candidates_of(PLAIN)
    assert straight.score(CLAIM, found(with_trigger, [ARTICLE])).supported
    assert not straight.score(CLAIM, found(without, [PLAIN])).supported
    # entailment now index 0: the trigger points at "contradiction", its absence at entailment
    flipped = swapped.score(CLAIM, found(with_trigger, [ARTICLE]))
    assert not flipped.supported and flipped.score < 0.2
    assert swapped.score(CLAIM, found(without, [PLAIN])).supported
    # "not_entailment" is not the entailment label
    mnli2 = {"0": "entailment", "1": "not_entailment"}
    two = NLIScorer(build_model(tmp_path / "rte", [0.0, 10.0], [0.0, -5.0], mnli2))
    assert not two.score(CLAIM, found(with_trigger, [ARTICLE])).supported
    assert two.score(CLAIM, found(without, [PLAIN])).supported


def test_max_over_chunks_cites_the_deciding_chunk(nli3: Path) -> None:
    cands = candidates_of(ARTICLE)  # best first: sentence 1, 2, 3; only 3 has the trigger
    assert TRIGGER in cands[2].text and all(TRIGGER not in c.text for c in cands[:2])
    one_per_chunk = NLIScorer(nli3, chunk_words=5)
    verdict = one_per_chunk.score(CLAIM, found(cands, [ARTICLE]))
    assert verdict.supported
    assert [s.quote for s in verdict.spans] == [cands[2].sentences[0].text]
    assert "A3" in verdict.reasons[0]
    # only the first chunk: the trigger sentence is never read
    first_only = NLIScorer(nli3, chunk_words=5, max_chunks=1)
    verdict = first_only.score(CLAIM, found(cands, [ARTICLE]))
    assert not verdict.supported
    assert [s.quote for s in verdict.spans] == [cands[0].sentences[0].text]
    # one chunk holding all three sentences: supported, cites within it
    verdict = NLIScorer(nli3).score(CLAIM, found(cands, [ARTICLE]))
    assert verdict.supported and verdict.spans


def test_premise_is_truncated_not_the_claim(nli3: Path) -> None:
    # the trigger sits at the end of a long premise: cut away by a small max_tokens
    long = Article(id="a", text="The harbour bridge reopened " + "a " * 60 + "confirmed.")
    cands = candidates_of(long)
    assert NLIScorer(nli3, max_tokens=512).score(CLAIM, found(cands, [long])).supported
    short = NLIScorer(nli3, max_tokens=32)
    verdict = short.score(CLAIM, found(cands, [long]))
    assert not verdict.supported
    ids = short.tokenizer.encode(long.text, CLAIM).ids
    assert len(ids) == 32  # the pair fits, the claim intact at the end
    claim_ids = short.tokenizer.encode(CLAIM).ids[1:-1]
    assert ids[-len(claim_ids) - 1 : -1] == claim_ids


def test_two_label_model_without_names_uses_label_1(tmp_path: Path) -> None:
    folder = build_model(tmp_path / "mc", [0.0, 10.0], [0.0, -5.0], None, token_types=False)
    scorer = NLIScorer(folder)
    assert "token_type_ids" not in scorer.inputs  # not fed: onnxruntime would reject it
    verdict = scorer.score(CLAIM, found(candidates_of(ARTICLE), [ARTICLE]))
    assert verdict.supported and verdict.score > 0.99
    verdict = scorer.score(CLAIM, found(candidates_of(PLAIN), [PLAIN]))
    assert not verdict.supported and verdict.score < 0.01
    # default names count as "no names"
    generic = {"0": "LABEL_0", "1": "LABEL_1"}
    folder = build_model(tmp_path / "mc2", [0.0, 10.0], [0.0, -5.0], generic)
    assert NLIScorer(folder).score(CLAIM, found(candidates_of(ARTICLE), [ARTICLE])).supported


def test_one_logit_model_uses_sigmoid(tmp_path: Path) -> None:
    folder = build_model(tmp_path / "one", [10.0], [-5.0], None, int32=True)
    scorer = NLIScorer(folder, threshold=0.9)
    verdict = scorer.score(CLAIM, found(candidates_of(ARTICLE), [ARTICLE]))
    assert verdict.supported and verdict.score == pytest.approx(1 / (1 + np.exp(-5)), abs=1e-4)
    verdict = scorer.score(CLAIM, found(candidates_of(PLAIN), [PLAIN]))
    assert not verdict.supported and verdict.score == pytest.approx(1 / (1 + np.exp(5)), abs=1e-4)


def test_rule_vetoes_cap_the_model(nli3: Path) -> None:
    validator = lexical_validator(NLIScorer(nli3))
    verdict = validator.check("The harbour bridge reopened on Friday.", [ARTICLE])
    assert not verdict.supported and verdict.score <= 0.05
    assert any("capped" in r for r in verdict.reasons)
    assert any("Friday" in r for r in verdict.reasons)
    quoted = 'Officials said the bridge "reopened to all traffic on Monday".'
    verdict = validator.check(quoted, [ARTICLE])
    assert not verdict.supported and verdict.score <= 0.05  # one veto cap for every check


def test_model_folder_errors_name_the_path(tmp_path: Path, monkeypatch) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(NLIModelError, match="nowhere: no such file"):
        NLIScorer(missing)
    hf = tmp_path / "hf-checkpoint"
    hf.mkdir()
    (hf / "config.json").write_text(json.dumps({"id2label": NLI3}))
    (hf / "model.safetensors").write_bytes(b"\0")
    with pytest.raises(NLIModelError) as err:
        NLIScorer(hf)
    assert str(hf) in str(err.value) and "optimum-cli export onnx" in str(err.value)
    assert "--task text-classification" in str(err.value)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(NLIModelError, match="no model.onnx"):
        NLIScorer(empty)
    no_tok = build_model(tmp_path / "no-tok", tokenizer=False)
    with pytest.raises(NLIModelError, match="tokenizer.json: missing"):
        NLIScorer(no_tok)
    bad = build_model(tmp_path / "bad-config")
    (bad / "config.json").write_text("{not json")
    with pytest.raises(NLIModelError, match=r"bad-config.config\.json: unreadable"):
        NLIScorer(bad)
    unnamed = build_model(tmp_path / "unnamed", id2label={"0": "a", "1": "b", "2": "c"})
    with pytest.raises(NLIModelError, match="none named entailment"):
        NLIScorer(unnamed)
    mismatch = build_model(tmp_path / "mismatch", id2label={"0": "entailment", "1": "neutral"})
    with pytest.raises(NLIModelError, match="2 labels but the model gives 3"):
        NLIScorer(mismatch)
    broken = build_model(tmp_path / "broken")
    (broken / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(NLIModelError, match="model.onnx: onnxruntime cannot load it"):
        NLIScorer(broken)
    monkeypatch.delenv("SUMMARIZE_NLI_MODEL", raising=False)
    monkeypatch.setenv("SUMMARIZE_CONFIG", os.devnull)
    with pytest.raises(ValueError, match="SUMMARIZE_NLI_MODEL"):
        get_scorer("nli")


def test_model_from_env_or_config_file_and_session_cache(
    nli3: Path, monkeypatch, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"nli_model = {json.dumps(str(nli3))}\n")
    monkeypatch.setenv("SUMMARIZE_CONFIG", str(config))
    monkeypatch.delenv("SUMMARIZE_NLI_MODEL", raising=False)
    assert get_scorer("nli").folder == nli3
    other = build_model(tmp_path / "other")
    monkeypatch.setenv("SUMMARIZE_NLI_MODEL", str(other))  # the environment wins
    a, b = get_scorer("nli"), get_scorer("nli", threshold=0.9)
    assert a.folder == other and a.session is b.session and b.threshold == 0.9


# ------------------------------------------------------------------ the CLI


def _run(args: list[str]):
    from typer.testing import CliRunner

    from summarize.cli import app

    result = CliRunner().invoke(app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


@pytest.fixture
def cli_files(tmp_path: Path) -> tuple[Path, Path]:
    article = tmp_path / "bridge.txt"
    article.write_text(ARTICLE.text + "\n", encoding="utf-8")
    summary = tmp_path / "summary.txt"
    summary.write_text(CLAIM + "\n", encoding="utf-8")
    return article, summary


def test_cli_validate_with_nli_model(nli3: Path, cli_files, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SUMMARIZE_CONFIG", os.devnull)
    monkeypatch.delenv("SUMMARIZE_NLI_MODEL", raising=False)
    article, summary = cli_files
    base = ["validate", str(article), "--summary", str(summary), "--scorer", "nli"]
    result = _run([*base, "--nli-model", str(nli3), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = ValidationReport.model_validate_json(result.stdout)
    (claim,) = report.claims
    assert claim.verdict.supported and claim.verdict.scorer == "nli"
    text = report.articles[0].text
    assert all(text[s.start : s.end] == s.quote for s in claim.verdict.spans)

    swapped = build_model(tmp_path / "swapped", id2label=NLI3_SWAPPED)
    monkeypatch.setenv("SUMMARIZE_NLI_MODEL", str(swapped))  # the env var works too
    result = _run([*base, "--format", "json"])
    assert result.exit_code == 1, result.output
    assert not ValidationReport.model_validate_json(result.stdout).claims[0].verdict.supported

    monkeypatch.delenv("SUMMARIZE_NLI_MODEL")
    result = _run(base)
    assert result.exit_code == 2
    assert "--nli-model" in result.output and "SUMMARIZE_NLI_MODEL" in result.output
    result = _run([*base, "--nli-model", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "nowhere" in result.output
    result = _run(["validate", str(article), "--summary", str(summary), "--nli-model", str(nli3)])
    assert result.exit_code == 2 and "--scorer nli" in result.output


def test_cli_eval_with_nli_model(nli3: Path, tmp_path: Path) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        json.dumps({"id": "1", "sources": [ARTICLE.text], "summary": CLAIM, "label": 1})
        + "\n"
        + json.dumps({"id": "2", "sources": [PLAIN.text], "summary": CLAIM, "label": 0})
        + "\n"
    )
    out = tmp_path / "pred.jsonl"
    args = ["eval", str(rows), "--out", str(out), "--scorer", "nli", "--nli-model", str(nli3)]
    result = _run(args)
    assert result.exit_code == 0, result.output
    assert "balanced_accuracy: 1.0" in result.output
    preds = [json.loads(line) for line in out.read_text().splitlines()]
    assert [p["supported"] for p in preds] == [True, False]
