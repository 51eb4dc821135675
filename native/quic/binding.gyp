{
  "variables": {
    "ferry_asan%": "<!(echo ${FERRY_QUIC_ASAN:-0})"
  },
  "targets": [
    {
      "target_name": "ferry_quic",
      "sources": ["src/addon.cc", "src/conn.cc", "src/endpoint.cc", "src/tls.cc"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "libraries": ["-lngtcp2", "-lngtcp2_crypto_gnutls", "-lgnutls"],
      "conditions": [
        ["ferry_asan==1", {
          "cflags_cc": ["-fsanitize=address", "-fno-omit-frame-pointer", "-g"],
          "ldflags": ["-fsanitize=address"]
        }]
      ]
    }
  ]
}
