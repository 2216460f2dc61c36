// The panels of the page, as data: inputs, the endpoint and its request body, and the outputs.
// To add a panel, call registerPanel with the same fields. app.js then builds its controls and keeps
// its inputs in the URL, and it calls the panel's endpoint whenever one of those inputs changes.
//
// Fields of a panel:
//   id, title, endpoint, note (optional text under the controls), wide (spans the page's width)
//   inputs: [{key (URL name), label, default, type ("text", "select", "range" or "checkbox"),
//             options ([[value, label], ...], "gpus" or "models"), when(state), testid, placeholder(meta, state)}]
//   body(state): the request JSON
//   outputs: [{label (text, or a function of state), text (key of the response's `formatted`),
//              value (path of the base-unit value, shown as data-value), testid, main, wide (a whole row),
//              when(state)}]
//   table (optional): {rows (path of a list in the response), columns [[header, key], ...], headers(data)}
//   run (optional): {key (URL name), label, testid}. The panel then runs only when its button is
//             pressed, for estimates too slow to repeat on every input; the key in the URL reruns it
//             on load, and changing any input marks its figures stale until the next press.
"use strict";

const PANELS = [];

function registerPanel(panel) {
  PANELS.push(panel);
}

// The model fields of a request: a preset, an uploaded config.json text, or a bare count.
function modelFields(state) {
  if (state.model === "@params") return { params: state.params };
  if (state.model === "@upload") return { config: state.config };
  return { model: state.model };
}

function optional(value) {
  return value === "" || value === undefined ? undefined : value;
}

// The maximum positions of the selected preset; undefined for an uploaded config or a bare count.
function maxPositions(meta, state) {
  return meta.models.find((m) => m.name === state.model)?.max_position_embeddings ?? undefined;
}

// The placeholder of a length input left empty: the length the API then uses, which is its
// default lowered to the preset's maximum positions.
function fittedLength(meta, state, length) {
  const limit = maxPositions(meta, state);
  return (limit ? Math.min(length, limit) : length).toLocaleString("en-US");
}

// A length as the API parses it ("8k" is 8,192, "1M" is 1,048,576); NaN for other text.
function parseLength(text) {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kKM]?)\s*$/.exec(text);
  if (!match) return NaN;
  return Number(match[1]) * { "": 1, k: 1024, K: 1024, M: 1024 * 1024 }[match[2]];
}

// The placeholder of the latency prompt: 2,048, lowered to leave room for the output in the
// preset's maximum positions, as the API lowers a prompt it is not sent.
function fittedPrompt(meta, state) {
  const limit = maxPositions(meta, state);
  const output = state.lat_output === "" ? 512 : parseLength(state.lat_output);
  const prompt = Math.min(2048, limit || 2048);
  const room = limit - output;
  return (room >= 1 && room < prompt ? room : prompt).toLocaleString("en-US");
}

const WEIGHT_TYPES = ["bf16", "fp16", "fp8", "int8", "int4", "fp32"].map((t) => [t, t]);
const SERVE_WEIGHT_TYPES = ["bf16", "fp16", "fp8", "int8", "int4", "mxfp4"].map((t) => [t, t]);
const SERVE_KV_TYPES = ["bf16", "fp16", "fp8", "int8"].map((t) => [t, t]);
const RECOMPUTE = [["none", "none"], ["selective", "selective"], ["full", "full"]];

// The serving replica of the capacity and latency panels: its GPUs, engine and types.
function engineFields(s) {
  return {
    ...modelFields(s), gpu: s.gpu, gpus: s.kv_gpus, tp: optional(s.kv_tp), engine: s.engine,
    gpu_memory_utilization: optional(s.utilization), weights_dtype: s.kv_weights, kv_dtype: s.kv_dtype,
  };
}

registerPanel({
  id: "train",
  title: "Pretraining cost",
  endpoint: "/api/train",
  inputs: [
    { key: "tokens", label: "tokens D", default: "15T", testid: "tokens", size: 8 },
    { key: "gpus", label: "GPUs", default: "1024", testid: "gpus", size: 6 },
    { key: "mfu", label: "MFU", type: "range", min: 5, max: 100, step: 1, default: "40", unit: "%", testid: "mfu" },
    { key: "price", label: "$/GPU-hour", default: "", testid: "price", size: 6, placeholder: (meta, state) => meta.gpuByName[state.gpu]?.usd_per_hour ?? "" },
    { key: "train_seq", label: "attention at sequence", default: "", testid: "train-seq", size: 6, placeholder: () => "6·N only" },
  ],
  body: (s) => ({
    ...modelFields(s), gpu: s.gpu, tokens: s.tokens, gpus: s.gpus, mfu: `${s.mfu}%`, price: optional(s.price), seq: optional(s.train_seq),
  }),
  outputs: [
    { label: "FLOPs per token", text: "flop_per_token", value: "flop_per_token", testid: "flop-per-token" },
    { label: "total compute", text: "total_flop", value: "total_flop", testid: "total-flop" },
    { label: "usable rate", text: "usable_rate" },
    { label: "wall-clock", text: "wall_clock", value: "wall_clock_s", testid: "wall-clock" },
    { label: "GPU-hours", text: "gpu_hours", value: "gpu_hours", testid: "gpu-hours" },
    { label: "cost", text: "cost", value: "cost_usd", testid: "cost", main: true },
    { label: "at", text: "price" },
  ],
});

registerPanel({
  id: "memory",
  title: "Memory per GPU",
  endpoint: "/api/memory",
  inputs: [
    { key: "mem_mode", label: "for", type: "select", options: [["train", "training"], ["infer", "inference"]], default: "train", testid: "mem-mode" },
    { key: "zero", label: "ZeRO stage", type: "select", options: [["0", "0"], ["1", "1"], ["2", "2"], ["3", "3"]], default: "3", when: (s) => s.mem_mode === "train" },
    { key: "dp", label: "data parallel", default: "64", size: 4, when: (s) => s.mem_mode === "train" },
    { key: "tp", label: "tensor parallel", default: "8", size: 4, when: (s) => s.mem_mode === "train" },
    { key: "sp", label: "sequence parallel", type: "checkbox", default: "1", when: (s) => s.mem_mode === "train" },
    { key: "micro_batch", label: "micro-batch", default: "1", size: 4, when: (s) => s.mem_mode === "train" },
    { key: "seq", label: "sequence", default: "", size: 6, placeholder: (meta, s) => fittedLength(meta, s, 4096), when: (s) => s.mem_mode === "train" },
    { key: "recompute", label: "recompute", type: "select", options: [["none", "none"], ["selective", "selective"], ["full", "full"]], default: "selective", when: (s) => s.mem_mode === "train" },
    { key: "mem_context", label: "context", default: "", size: 6, placeholder: (meta, s) => fittedLength(meta, s, 4096), when: (s) => s.mem_mode === "infer" },
    { key: "mem_requests", label: "requests", default: "1", size: 4, when: (s) => s.mem_mode === "infer" },
    { key: "mem_gpus", label: "GPUs", default: "1", size: 4, when: (s) => s.mem_mode === "infer" },
    { key: "mem_dtype", label: "weights", type: "select", options: WEIGHT_TYPES, default: "bf16", when: (s) => s.mem_mode === "infer" },
  ],
  body: (s) =>
    s.mem_mode === "train"
      ? {
          ...modelFields(s), gpu: s.gpu, mode: "train", zero_stage: Number(s.zero), dp: s.dp, tp: s.tp,
          sequence_parallel: s.sp === "1", micro_batch: s.micro_batch, seq: optional(s.seq), recompute: s.recompute,
        }
      : {
          ...modelFields(s), gpu: s.gpu, mode: "infer", context: optional(s.mem_context), requests: s.mem_requests,
          gpus: s.mem_gpus, weights_dtype: s.mem_dtype,
        },
  outputs: [
    { label: "weights", text: "weights", value: "weights_bytes", testid: "mem-weights" },
    { label: "gradients", text: "gradients", value: "gradients_bytes", when: (s) => s.mem_mode === "train" },
    { label: "optimizer state", text: "optimizer", value: "optimizer_bytes", when: (s) => s.mem_mode === "train" },
    { label: "KV cache", text: "kv_cache", value: "kv_cache_bytes", when: (s) => s.mem_mode === "infer" },
    { label: "activations", text: "activations", value: "activations_bytes" },
    { label: "total per GPU", text: "total", value: "total_bytes", testid: "mem-total", main: true },
    { label: (s) => (s.mem_mode === "train" ? "fewest GPUs" : "fewest GPUs, memory alone"), text: "min_gpus", value: "min_gpus", testid: "mem-min-gpus" },
    { label: "fewest GPUs, tensor parallel", text: "min_gpus_tensor_parallel", value: "min_gpus_tensor_parallel", when: (s) => s.mem_mode === "infer" },
  ],
});

registerPanel({
  id: "kv",
  title: "KV cache and serving capacity",
  endpoint: "/api/serve-size",
  note: "The KV cache as the engine accounts it: vllm subtracts what vLLM's start-up profiling takes; plain uses the nominal memory.",
  inputs: [
    { key: "context", label: "context", default: "", size: 7, testid: "context", placeholder: (meta, s) => maxPositions(meta, s)?.toLocaleString("en-US") ?? "model's max" },
    { key: "kv_gpus", label: "GPUs", default: "2", size: 4, testid: "serve-gpus" },
    { key: "kv_tp", label: "tensor parallel", default: "", size: 4, placeholder: () => "GPUs" },
    { key: "engine", label: "engine", type: "select", options: [["vllm", "vLLM"], ["plain", "plain"]], default: "vllm", testid: "engine" },
    { key: "utilization", label: "memory utilization", default: "", size: 5, placeholder: (meta, state) => (state.engine === "plain" ? "1" : "0.9") },
    { key: "kv_dtype", label: "KV type", type: "select", options: SERVE_KV_TYPES, default: "bf16" },
    { key: "kv_weights", label: "weights", type: "select", options: SERVE_WEIGHT_TYPES, default: "bf16" },
  ],
  body: (s) => ({ ...engineFields(s), context: optional(s.context) }),
  outputs: [
    { label: "weights per GPU", text: "weights_per_gpu", value: "weights_bytes_per_gpu" },
    { label: "KV cache per GPU", text: "kv_cache_per_gpu", value: "kv_cache_bytes_per_gpu", testid: "kv-cache-per-gpu" },
    { label: "KV cache size", text: "kv_cache_tokens", value: "kv_cache_tokens", testid: "kv-cache-tokens" },
    { label: "GPU blocks", text: "gpu_blocks", value: "gpu_blocks" },
    { label: "max concurrency at the context", text: "max_concurrency", value: "max_requests", testid: "max-requests", main: true },
    { label: "longest context", text: "max_context", value: "max_context_tokens" },
    { label: "replicas", text: "replicas", value: "replicas" },
  ],
});

registerPanel({
  id: "latency",
  title: "Latency and $/1M tokens",
  endpoint: "/api/latency",
  note: "On the replica of the capacity panel. TTFT is one prompt's prefill; TPOT is a decode step at the mean context. Rows beyond the KV cache are marked.",
  inputs: [
    { key: "lat_batches", label: "batch sizes", default: "1,8,32,128", size: 12, testid: "latency-batches" },
    { key: "lat_prompt", label: "prompt", default: "", size: 6, testid: "latency-prompt", placeholder: fittedPrompt },
    { key: "lat_output", label: "output", default: "", size: 6, placeholder: () => "512" },
    { key: "lat_price", label: "$/GPU-hour", default: "", size: 6, placeholder: (meta, state) => meta.gpuByName[state.gpu]?.usd_per_hour ?? "" },
    { key: "compute_eff", label: "compute efficiency", default: "1", size: 4 },
    { key: "bandwidth_eff", label: "bandwidth efficiency", default: "1", size: 4 },
  ],
  body: (s) => ({
    ...engineFields(s), batches: s.lat_batches.split(",").map((b) => b.trim()), prompt: optional(s.lat_prompt), output: optional(s.lat_output),
    price: optional(s.lat_price), compute_efficiency: s.compute_eff, bandwidth_efficiency: s.bandwidth_eff,
  }),
  outputs: [
    { label: "time to first token", text: "ttft", value: "rows.0.ttft_s", testid: "ttft" },
    { label: "max batch in the KV cache", text: "max_batch", value: "max_batch", testid: "max-batch" },
    { label: "decode turns compute-bound at", text: "crossover", value: "decode_crossover_batch" },
    { label: "at", text: "price", value: "usd_per_gpu_hour" },
  ],
  table: {
    rows: "table",
    columns: [
      ["batch", "batch"], ["TTFT", "ttft"], ["TPOT", "tpot"], ["tokens/s per GPU", "tokens_per_s_per_gpu"], ["bound", "bound"],
      ["$/1M output", "usd_per_million_output_tokens"], ["$/1M input", "usd_per_million_input_tokens"], ["fits", "fits"],
    ],
  },
});

registerPanel({
  id: "roofline",
  title: "Roofline",
  endpoint: "/api/roofline",
  inputs: [
    { key: "batches", label: "batch sizes", default: "1,8,64,512", size: 12, testid: "batches" },
    { key: "rf_context", label: "cached context", default: "0", size: 6 },
    { key: "prompt", label: "prompt", default: "", size: 6, testid: "roofline-prompt", placeholder: (meta, s) => fittedLength(meta, s, 2048) },
  ],
  body: (s) => ({
    ...modelFields(s), gpu: s.gpu, batches: s.batches.split(",").map((b) => b.trim()), context: s.rf_context, prompt: optional(s.prompt),
  }),
  outputs: [
    { label: "ridge", text: "ridge", value: "ridge_flop_per_byte" },
    { label: "decode turns compute-bound at", text: "crossover", value: "decode_crossover_batch" },
  ],
  table: {
    rows: "table",
    columns: [
      ["batch", "batch"], ["decode FLOP/B", "decode_intensity"], ["bound", "decode_bound"], ["step time", "step_time"],
      ["tokens/s", "tokens_per_s"], ["prefill FLOP/B", "prefill_intensity"], ["bound", "prefill_bound"],
    ],
  },
});

registerPanel({
  id: "layout",
  title: "Training layout",
  endpoint: "/api/layout",
  note: "On the tokens and $/GPU-hour of the pretraining panel. GPUs = tp · pp · dp; the step time is modelled unless an MFU is given.",
  inputs: [
    { key: "lay_tp", label: "tp", default: "8", size: 3, testid: "layout-tp" },
    { key: "lay_pp", label: "pp", default: "4", size: 3, testid: "layout-pp" },
    { key: "lay_dp", label: "dp", default: "32", size: 4, testid: "layout-dp" },
    { key: "lay_zero", label: "ZeRO stage", type: "select", options: [["0", "0"], ["1", "1"], ["2", "2"], ["3", "3"]], default: "1", testid: "layout-zero" },
    { key: "lay_recompute", label: "recompute", type: "select", options: RECOMPUTE, default: "selective" },
    { key: "lay_micro_batch", label: "micro-batch", default: "1", size: 3 },
    { key: "lay_global_batch", label: "global batch (tokens)", default: "4M", size: 6, testid: "layout-global-batch" },
    { key: "lay_seq", label: "sequence", default: "", size: 6, testid: "layout-seq", placeholder: (meta, s) => fittedLength(meta, s, 8192) },
    { key: "lay_mfu", label: "MFU", default: "", size: 5, placeholder: () => "modelled" },
  ],
  body: (s) => ({
    ...modelFields(s), gpu: s.gpu, tokens: s.tokens, price: optional(s.price), tp: s.lay_tp, pp: s.lay_pp, dp: s.lay_dp,
    zero: Number(s.lay_zero), recompute: s.lay_recompute, micro_batch: s.lay_micro_batch, global_batch: s.lay_global_batch,
    seq: optional(s.lay_seq), mfu: optional(s.lay_mfu),
  }),
  outputs: [
    { label: "GPUs", text: "gpus", value: "gpus" },
    { label: "memory per GPU", text: "memory_per_gpu", value: "memory_per_gpu_bytes", testid: "layout-memory" },
    { label: "step time", text: "step_time", value: "step_time_s", testid: "layout-step-time" },
    { label: "tokens/s", text: "tokens_per_s", value: "tokens_per_s" },
    { label: "MFU", text: "mfu", value: "mfu", testid: "layout-mfu" },
    { label: "HFU", text: "hfu", value: "hfu", testid: "layout-hfu" },
    { label: "wall-clock", text: "days", value: "wall_clock_days", testid: "layout-days" },
    { label: "GPU-hours", text: "gpu_hours", value: "gpu_hours" },
    { label: "cost", text: "cost", value: "cost_usd", testid: "layout-cost", main: true },
    { label: "at", text: "price", value: "usd_per_gpu_hour" },
    { label: "step time from", text: "rate_source", wide: true },
  ],
});

registerPanel({
  id: "plan",
  title: "Plan: search layouts",
  endpoint: "/api/plan",
  note: "Searches tp, pp, dp, cp, ZeRO, recompute and micro-batch for the model, tokens and $/GPU-hour above, at the global batch of the layout panel and its sequence when one is typed (else 8,192, lowered to the model's maximum positions). In the table, sizes of 1 are left out; Z is the ZeRO stage, none, sel and full the recomputation, mb the micro-batch.",
  run: { key: "plan_run", label: "Plan", testid: "plan-run" },
  wide: true,
  inputs: [
    { key: "plan_gpus", label: "GPU types", default: "", size: 12, testid: "plan-gpus", placeholder: (meta, state) => state.gpu },
    { key: "plan_max_gpus", label: "max GPUs", default: "4096", size: 6, testid: "plan-max-gpus" },
    { key: "plan_days", label: "max days", default: "90", size: 4, testid: "plan-days" },
    { key: "plan_budget", label: "budget ($)", default: "", size: 6, testid: "plan-budget", placeholder: () => "none" },
    { key: "plan_rank", label: "rank by", type: "select", options: [["cost", "cost"], ["time", "time"]], default: "cost" },
  ],
  body: (s) => ({
    ...modelFields(s), gpu: s.plan_gpus || s.gpu, tokens: s.tokens, price: optional(s.price), max_gpus: s.plan_max_gpus,
    days: optional(s.plan_days), budget: optional(s.plan_budget), rank: s.plan_rank, seq: optional(s.lay_seq), global_batch: s.lay_global_batch,
  }),
  outputs: [
    { label: "best layout", text: "best", testid: "plan-best", wide: true },
    { label: "its cost", text: "best_cost", value: "layouts.0.cost_usd", testid: "plan-best-cost", main: true },
    { label: "its wall-clock", text: "best_days", value: "layouts.0.days" },
    { label: "why it wins", text: "why_winner", wide: true },
    { label: "best rejected", text: "rejected", wide: true },
  ],
  table: {
    rows: "table",
    columns: [
      ["#", "rank"], ["GPUs", "gpus"], ["layout", "layout"], ["memory/GPU", "memory_per_gpu"], ["MFU", "mfu"],
      ["days", "days"], ["cost", "cost"],
    ],
  },
});

registerPanel({
  id: "compare",
  title: "Compare",
  endpoint: "/api/compare",
  note: "On the inputs of the other panels: tokens, GPUs, MFU and price of the pretraining panel, the training memory settings, and the context of the KV panel (8,192 when it is empty, lowered to each model's maximum positions).",
  inputs: [
    { key: "cmp_kind", label: "against another", type: "select", options: [["gpu", "GPU"], ["model", "model"]], default: "gpu", testid: "compare-kind" },
    { key: "cmp_gpu", label: "GPU", type: "select", options: "gpus", default: "h200", when: (s) => s.cmp_kind === "gpu", testid: "compare-gpu" },
    { key: "cmp_model", label: "model", type: "select", options: "models", default: "llama-3-8b", when: (s) => s.cmp_kind === "model", testid: "compare-model" },
  ],
  body: (s) => {
    const a = { ...modelFields(s), gpu: s.gpu };
    const b = s.cmp_kind === "gpu" ? { ...a, gpu: s.cmp_gpu } : { model: s.cmp_model, gpu: s.gpu };
    return {
      a, b, tokens: s.tokens, gpus: s.gpus, mfu: `${s.mfu}%`, price: optional(s.price), context: optional(s.context),
      seq: optional(s.seq), micro_batch: s.micro_batch, tp: s.tp, sequence_parallel: s.sp === "1", recompute: s.recompute,
    };
  },
  outputs: [],
  table: {
    rows: "rows",
    columns: [["", "label"], ["a", "a_text"], ["b", "b_text"], ["b ÷ a", "ratio_text"]],
    headers: (data) => ["", data.formatted.a, data.formatted.b, "b ÷ a"],
  },
});
