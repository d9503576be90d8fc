-- wrk reporter for mesh.sh: "BENCH req/s p50_us p90_us p99_us errors" after wrk's own output.
-- errors: socket errors (connect/read/write/timeout) plus non-2xx responses.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %.1f %d %d %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout + e.status))
end
