// The panels of the page, as data: inputs, the endpoint and its request body, and the outputs.
// To add a panel, call registerPanel with the same fields. app.js then builds its controls and keeps
// its inputs in the URL, and it calls the panel's endpoint whenever one of those inputs changes.
//
// Fields of a panel:
//   id, title, endpoint, note (optional text under the controls)
//   inputs: [{key (URL name), label, default, type ("text", "select", "range" or "checkbox"),
//             options ([[value, label], ...], "gpus" or "models"), when(state), testid, placeholder(meta, state)}]
//   body(state): the request JSON
//   outputs: [{label (text, or a function of state), text (key of the response's `formatted`),
//              value (path of the base-unit value, shown as data-value), testid, main, when(state)}]
//   table (optional): {rows (path of a list in the response), columns [[header, key], ...], headers(data)}
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

const WEIGHT_TYPES = ["bf16", "fp16", "fp8", "int8", "int4", "fp32"].map((t) => [t, t]);
const KV_TYPES = ["bf16", "fp16", "fp8", "int8", "fp32"].map((t) => [t, t]);

registerPanel({
  id: "train",
  title: "Pretraining cost",
  endpoint: "/api/train",
  inputs: [
    { key: "tokens", label: "tokens D", default: "15T", testid: "tokens", size: 8 },
    { key: "gpus", label: "GPUs", default: "1024", testid: "gpus", size: 6 },
    { key: "mfu", label: "MFU", type: "range", min: 5, max: 100, step: 1, default: "40", unit: "%", testid: "mfu" },
    { key: "price", label: "$/GPU-hour", default: "", testid: "price", size: 6, placeholder: (meta, state) => meta.gpuByName[state.gpu]?.usd_per_hour ?? "" },
  ],
  body: (s) => ({ ...modelFields(s), gpu: s.gpu, tokens: s.tokens, gpus: s.gpus, mfu: `${s.mfu}%`, price: optional(s.price) }),
  outputs: [
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
    { key: "seq", label: "sequence", default: "8192", size: 6, when: (s) => s.mem_mode === "train" },
    { key: "recompute", label: "recompute", type: "select", options: [["none", "none"], ["selective", "selective"], ["full", "full"]], default: "selective", when: (s) => s.mem_mode === "train" },
    { key: "mem_context", label: "context", default: "4096", size: 6, when: (s) => s.mem_mode === "infer" },
    { key: "mem_requests", label: "requests", default: "1", size: 4, when: (s) => s.mem_mode === "infer" },
    { key: "mem_gpus", label: "GPUs", default: "1", size: 4, when: (s) => s.mem_mode === "infer" },
    { key: "mem_dtype", label: "weights", type: "select", options: WEIGHT_TYPES, default: "bf16", when: (s) => s.mem_mode === "infer" },
  ],
  body: (s) =>
    s.mem_mode === "train"
      ? {
          ...modelFields(s), gpu: s.gpu, mode: "train", zero_stage: Number(s.zero), dp: s.dp, tp: s.tp,
          sequence_parallel: s.sp === "1", micro_batch: s.micro_batch, seq: s.seq, recompute: s.recompute,
        }
      : {
          ...modelFields(s), gpu: s.gpu, mode: "infer", context: s.mem_context, requests: s.mem_requests,
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
  title: "KV cache and serving",
  endpoint: "/api/kv",
  inputs: [
    { key: "context", label: "context", default: "8192", size: 7, testid: "context" },
    { key: "kv_gpus", label: "GPUs", default: "2", size: 4 },
    { key: "kv_dtype", label: "KV type", type: "select", options: KV_TYPES, default: "bf16" },
    { key: "kv_weights", label: "weights", type: "select", options: WEIGHT_TYPES, default: "bf16" },
    { key: "kv_price", label: "$/GPU-hour", default: "", size: 6, placeholder: (meta, state) => meta.gpuByName[state.gpu]?.usd_per_hour ?? "" },
    { key: "tokens_per_s", label: "tokens/s per GPU", default: "", size: 8, placeholder: () => "roofline" },
  ],
  body: (s) => ({
    ...modelFields(s), gpu: s.gpu, context: s.context, gpus: s.kv_gpus, kv_dtype: s.kv_dtype, weights_dtype: s.kv_weights,
    price: optional(s.kv_price), tokens_per_s_per_gpu: optional(s.tokens_per_s),
  }),
  outputs: [
    { label: "KV per token", text: "kv_per_token", value: "kv_cache_bytes_per_token" },
    { label: "KV per request", text: "kv_per_request", value: "kv_cache_bytes_per_request" },
    { label: "weights", text: "weights", value: "weights_bytes" },
    { label: "free for KV", text: "free", value: "free_bytes" },
    { label: "max concurrent requests", text: "max_requests", value: "max_requests", testid: "max-requests", main: true },
    { label: "serving cost", text: "usd_per_million_tokens", value: "serving.usd_per_million_tokens", testid: "usd-per-million" },
  ],
});

registerPanel({
  id: "roofline",
  title: "Roofline",
  endpoint: "/api/roofline",
  inputs: [
    { key: "batches", label: "batch sizes", default: "1,8,64,512", size: 12, testid: "batches" },
    { key: "rf_context", label: "cached context", default: "0", size: 6 },
    { key: "prompt", label: "prompt", default: "2048", size: 6 },
  ],
  body: (s) => ({
    ...modelFields(s), gpu: s.gpu, batches: s.batches.split(",").map((b) => b.trim()), context: s.rf_context, prompt: s.prompt,
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
  id: "compare",
  title: "Compare",
  endpoint: "/api/compare",
  note: "On the inputs of the other panels: tokens, GPUs, MFU and price of the pretraining panel, the training memory settings, and the context of the KV panel.",
  inputs: [
    { key: "cmp_kind", label: "against another", type: "select", options: [["gpu", "GPU"], ["model", "model"]], default: "gpu", testid: "compare-kind" },
    { key: "cmp_gpu", label: "GPU", type: "select", options: "gpus", default: "h200", when: (s) => s.cmp_kind === "gpu", testid: "compare-gpu" },
    { key: "cmp_model", label: "model", type: "select", options: "models", default: "llama-3-8b", when: (s) => s.cmp_kind === "model", testid: "compare-model" },
  ],
  body: (s) => {
    const a = { ...modelFields(s), gpu: s.gpu };
    const b = s.cmp_kind === "gpu" ? { ...a, gpu: s.cmp_gpu } : { model: s.cmp_model, gpu: s.gpu };
    return {
      a, b, tokens: s.tokens, gpus: s.gpus, mfu: `${s.mfu}%`, price: optional(s.price), context: s.context,
      seq: s.seq, micro_batch: s.micro_batch, tp: s.tp, sequence_parallel: s.sp === "1", recompute: s.recompute,
    };
  },
  outputs: [],
  table: {
    rows: "rows",
    columns: [["", "label"], ["a", "a_text"], ["b", "b_text"], ["b ÷ a", "ratio_text"]],
    headers: (data) => ["", data.formatted.a, data.formatted.b, "b ÷ a"],
  },
});
