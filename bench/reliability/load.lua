-- 50 connections on the dashboard and a KPI page with writes mixed in: one
-- request in WRITE_EVERY posts a KPI actual (the session cookie and its CSRF
-- token from the environment), the others alternate between / and the KPI page.
local cookie = os.getenv("COOKIE")
local csrf = os.getenv("CSRF")
local kpi = os.getenv("KPI")
local every = tonumber(os.getenv("WRITE_EVERY") or "10")
-- The versions the actuals form showed (empty when the form carries none).
local versions = os.getenv("VERSIONS") or ""
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

-- One STATUS line per answer code over all threads, for load.sh to count.
function done(summary, latency, requests)
  local all = {}
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses")) do
      all[code] = (all[code] or 0) + n
    end
  end
  for code, n in pairs(all) do
    io.write(string.format("STATUS %d %d\n", code, n))
  end
end
local n = 0
local writes = 0

request = function()
  n = n + 1
  local h = { ["Cookie"] = cookie }
  if n % every == 0 then
    writes = writes + 1
    h["Content-Type"] = "application/x-www-form-urlencoded"
    local body = "csrf=" .. csrf .. "&period=2024&value=" .. (n % 1000) .. "&source=wrk&note=load"
    if versions ~= "" then
      body = body .. "&versions=" .. versions
    end
    return wrk.format("POST", "/kpis/" .. kpi .. "/actuals", h, body)
  elseif n % 2 == 0 then
    return wrk.format("GET", "/", h)
  else
    return wrk.format("GET", "/kpis/" .. kpi, h)
  end
end
