-- bench/api_resolve.lua: the wrk request of bench/api.sh's resolve run, `POST /api/v1/resolve` for
-- the context bench/api.sh seeds 50 secrets for (10 in each of apikey:k1, group:g1,
-- function:prod/fn, namespace:prod and global). The bearer token comes from wrk's -H flag.
wrk.method = "POST"
wrk.body = '{"namespace":"prod","function":"fn","group":"g1","apikey":"k1"}'
wrk.headers["Content-Type"] = "application/json"
