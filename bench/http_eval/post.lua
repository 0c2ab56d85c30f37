-- wrk script: POST /v1/orders with a ~300-byte PlaceOrder JSON body.
-- The same static Idempotency-Key on every request is fine here: the
-- benchmark servers do not deduplicate, they only measure the HTTP path.
wrk.method = "POST"
wrk.path = "/v1/orders"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Idempotency-Key"] = "bench-0001"
wrk.body = '{"customer_id":"cust-000123","merchant_id":"merch-0042","items":[' ..
  '{"sku":"SKU-RED-MUG-01","quantity":"2","unit_price":{"currency":"EUR","amount_minor":"1299"}},' ..
  '{"sku":"SKU-BLUE-TEE-L","quantity":"1","unit_price":{"currency":"EUR","amount_minor":"2499"}}],' ..
  '"shipping_address":{"city":"Paris","postal_code":"75002","country":"FR"}}'
