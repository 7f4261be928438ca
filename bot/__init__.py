"""The WeChat protocol: callback, signatures and AES, de-duplication, dispatch, the API client
and the outbox worker."""
