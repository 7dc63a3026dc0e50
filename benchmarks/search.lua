-- wrk script: authenticated POST /api/v1/brands/{id}/search, rotating through queries.
-- The key comes from the environment (BRANDPILOT_KEY), never from this file.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BRANDPILOT_KEY")

local queries = {
  "roast profile for espresso", "refund for a damaged parcel", "oat milk latte price",
  "delivery on weekends", "loyalty card rewards", "grinder filter brew time",
  "organic farm origin", "subscription pause", "barista course", "seasonal menu pastry",
}
local counter = 0

request = function()
  counter = counter + 1
  local query = queries[(counter % #queries) + 1]
  return wrk.format(nil, nil, nil, '{"query":"' .. query .. '","k":10}')
end
