// Decisions on requests that carry verified tokens, next to the raw OpenSSL
// cost of the signature checks those tokens need. Both are measured in the
// same run so that they can be compared on a noisy machine. The request is
// acceptance scenario S1: policy P1 of tests/tokens/scenarios/p1, one
// ID-JAG JAG0 and one TDX attestation result EAR_TDX0, decided at the
// pinned time kNow.
//
// Keys, certificates, tokens and the trust file come from the S1 test
// fixture (tests/tokens/scenario_fixture.h), generated when the program
// starts. The IdP's replay mode is same-client, its default, and every
// request is presented by the client the ID-JAG names.
//
// Benchmarks:
//   BM_DecideS1/warm        DecodeJsonRequest plus Evaluate of the S1 request,
//                           the same request every iteration, so both tokens
//                           are taken from the verified-token cache.
//   BM_DecideS1/cold        the same on a program whose trust file sets
//                           "verified_cache_capacity": 0, so both tokens are
//                           parsed and verified again every iteration.
//   BM_DecideS1/no_tokens   the S1 request without its tokens member, on the
//                           warm program: the decision cost without tokens.
//   BM_RawJagSignature      EVP_DigestVerifyInit plus EVP_DigestVerify (ES256)
//                           of JAG0's signing input with the IdP's public key.
//   BM_RawEarSignature      the same for EAR_TDX0 with the Trustee leaf key.
//   BM_RawEarChain          d2i_X509 of the EAR's x5c leaf plus
//                           X509_verify_cert to the Trustee root, as the
//                           verifier configures it (X509_V_FLAG_X509_STRICT,
//                           time kNow).
//   BM_RawS1Checks          the three checks above in one iteration: the
//                           floor for BM_DecideS1/cold.
//
// The BM_DecideS1 benchmarks time each decision with steady_clock and report
// the counters p50_ns and p99_ns over the iterations of the run, plus
// allocs_per_decision (calls to operator new, from counting_hooks).
// A decision that does not come out as expected (PERMIT with tokens, DENY
// without) stops the program, so a broken setup cannot produce figures.

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bench/counting_hooks.h"
#include "benchmark/benchmark.h"
#include "engine/evaluator.h"
#include "engine/request.h"
#include "tests/tokens/scenario_fixture.h"
#include "tokens/base64url.h"
#include "tokens/token_source.h"

namespace verdict::tokens::testing {
namespace {

using json = nlohmann::json;

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "token_bench: %s\n", message.c_str());
  std::exit(1);
}

// The parts of a compact JWS that a signature check reads.
struct SignedParts {
  std::string signing_input;  // BASE64URL(header) '.' BASE64URL(payload)
  std::string der_signature;  // The JOSE r||s signature converted to DER.
};

SignedParts SplitEs256(const std::string& compact) {
  const size_t last_dot = compact.rfind('.');
  if (last_dot == std::string::npos) Die("a token has no '.'");
  std::optional<std::string> raw =
      DecodeBase64Url(std::string_view(compact).substr(last_dot + 1));
  if (!raw || raw->size() != 64) Die("a token has no 64-byte ES256 signature");

  const auto* bytes = reinterpret_cast<const unsigned char*>(raw->data());
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(bytes, 32, nullptr),
                 BN_bin2bn(bytes + 32, 32, nullptr));
  unsigned char* der = nullptr;
  const int der_size = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (der_size <= 0) Die("i2d_ECDSA_SIG failed");
  SignedParts parts{compact.substr(0, last_dot),
                    std::string(reinterpret_cast<char*>(der), der_size)};
  OPENSSL_free(der);
  return parts;
}

// Everything the benchmarks share, built once from the S1 fixture. The
// fixture is a googletest class, and this program uses it outside a test:
// TestBody is never run.
class S1Setup : public ScenarioTest {
 public:
  S1Setup() {
    SetUpTestSuite();
    warm_program = CompileScenario("p1", "same-client");
    // The trust file of the fixture with the verified-token cache disabled.
    // TrustFile writes the key files it names into its directory, and
    // CompileScenario writes them again beside this trust.json.
    json trust = TrustFile(MakeTempDir("cold_trust"), "same-client");
    trust["verified_cache_capacity"] = 0;
    cold_program =
        CompileScenario("p1", "same-client", {{"trust.json", trust.dump(2)}});
    if (warm_program == nullptr || cold_program == nullptr) {
      Die("policy P1 does not compile with its trust file");
    }

    jag = Jag0();
    ear = SignEar(EarClaims(TdxEvidence()));
    json request = {
        {"tokens", {TokenEntry("id-jag", jag), TokenEntry("attestation", ear)}},
        {"context", {{"client_authenticated_id", kAgent}}},
        {"action", {{"name", "read"}}},
        {"resource", {{"type", "sales_report"}, {"id", "q3"}}}};
    request_text = request.dump();
    request.erase("tokens");
    no_tokens_text = request.dump();

    absl::StatusOr<VerificationKey> idp = ParseJwk(
        PublicJwk(keys_->idp.get(), "idp-1", "ES256"), std::nullopt, "idp-1");
    if (!idp.ok()) Die(std::string(idp.status().message()));
    idp_public_key = idp->key;
    trustee_leaf_key = keys_->trustee_leaf_key;
    trustee_root = keys_->trustee_root;

    unsigned char* der = nullptr;
    const int der_size = i2d_X509(keys_->trustee_leaf.get(), &der);
    if (der_size <= 0) Die("i2d_X509 failed");
    trustee_leaf_der.assign(reinterpret_cast<char*>(der), der_size);
    OPENSSL_free(der);
  }

  void TestBody() override {}

  std::shared_ptr<const Program> warm_program;
  std::shared_ptr<const Program> cold_program;
  std::string jag;
  std::string ear;
  std::string request_text;
  std::string no_tokens_text;
  PublicKey idp_public_key;
  PublicKey trustee_leaf_key;
  Certificate trustee_root;
  std::string trustee_leaf_der;
};

const S1Setup& Setup() {
  static const S1Setup* setup = new S1Setup;
  return *setup;
}

size_t CachedTokens(const Program& program) {
  const auto* source =
      dynamic_cast<const TrustedTokenSource*>(program.token_source.get());
  if (source == nullptr) Die("the program has no trust file");
  return source->verifier().cached_tokens();
}

// Decodes and evaluates `request` and stops the program unless the decision
// is `expect_permit`.
void DecideOrDie(const Program& program, std::string_view request,
                 bool expect_permit, Frame& frame) {
  absl::Status decoded = DecodeJsonRequest(program, request, kNow, frame);
  if (!decoded.ok()) Die("request rejected: " + decoded.ToString());
  const Decision decision = Evaluate(program, frame);
  if (decision.permit != expect_permit) {
    std::string reasons;
    for (const std::string& reason : DecisionReasons(program, frame, decision))
      reasons += " " + reason;
    Die(std::string("S1 decided ") + (decision.permit ? "PERMIT" : "DENY") +
        reasons);
  }
}

enum class Mode { kWarm, kCold, kNoTokens };

void BM_DecideS1(benchmark::State& state, Mode mode) {
  const S1Setup& setup = Setup();
  const Program& program =
      mode == Mode::kCold ? *setup.cold_program : *setup.warm_program;
  const std::string& request =
      mode == Mode::kNoTokens ? setup.no_tokens_text : setup.request_text;
  const bool expect_permit = mode != Mode::kNoTokens;

  Frame frame;
  DecideOrDie(program, request, expect_permit, frame);
  if (mode == Mode::kWarm && CachedTokens(program) != 2) {
    Die("the warm program did not cache both tokens");
  }
  if (mode == Mode::kCold && CachedTokens(program) != 0) {
    Die("the cold program cached a token");
  }

  std::vector<double> samples;
  samples.reserve(1 << 20);
  const uint64_t allocations_begin = bench::ThreadAllocations();
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    absl::Status decoded = DecodeJsonRequest(program, request, kNow, frame);
    const Decision decision = Evaluate(program, frame);
    const auto stop = std::chrono::steady_clock::now();
    if (!decoded.ok() || decision.permit != expect_permit) {
      state.SkipWithError("the decision changed during the run");
      break;
    }
    if (samples.size() < samples.capacity()) {
      samples.push_back(
          std::chrono::duration<double, std::nano>(stop - start).count());
    }
  }
  const uint64_t allocations_end = bench::ThreadAllocations();
  if (samples.empty()) return;

  // Pushing a sample allocates nothing: the vector was reserved above.
  state.counters["allocs_per_decision"] =
      static_cast<double>(allocations_end - allocations_begin) /
      static_cast<double>(state.iterations());
  auto percentile = [&](double q) {
    const size_t k =
        std::min(samples.size() - 1, static_cast<size_t>(q * samples.size()));
    std::nth_element(samples.begin(), samples.begin() + k, samples.end());
    return samples[k];
  };
  state.counters["p50_ns"] = percentile(0.50);
  state.counters["p99_ns"] = percentile(0.99);
}

// One ES256 verification as VerifyJwsSignature makes it: a fresh
// EVP_MD_CTX, EVP_DigestVerifyInit with SHA-256, EVP_DigestVerify.
bool VerifyEs256(EVP_PKEY* key, const SignedParts& parts) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok =
      EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
      EVP_DigestVerify(
          ctx,
          reinterpret_cast<const unsigned char*>(parts.der_signature.data()),
          parts.der_signature.size(),
          reinterpret_cast<const unsigned char*>(parts.signing_input.data()),
          parts.signing_input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

// Builds the store of trusted roots once, as CertificateRoots does.
X509_STORE* TrusteeStore(const S1Setup& setup) {
  X509_STORE* store = X509_STORE_new();
  if (store == nullptr ||
      X509_STORE_add_cert(store, setup.trustee_root.get()) != 1) {
    Die("X509_STORE_add_cert failed");
  }
  return store;
}

// Parses the leaf from DER and verifies it to the store at kNow.
bool VerifyChain(X509_STORE* store, const std::string& leaf_der) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(leaf_der.data());
  X509* leaf = d2i_X509(nullptr, &cursor, static_cast<long>(leaf_der.size()));
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  bool ok = leaf != nullptr && ctx != nullptr &&
            X509_STORE_CTX_init(ctx, store, leaf, nullptr) == 1;
  if (ok) {
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(kNow));
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
    ok = X509_verify_cert(ctx) == 1;
  }
  X509_STORE_CTX_free(ctx);
  X509_free(leaf);
  return ok;
}

void BM_RawJagSignature(benchmark::State& state) {
  const S1Setup& setup = Setup();
  const SignedParts parts = SplitEs256(setup.jag);
  EVP_PKEY* key = setup.idp_public_key.get();
  if (!VerifyEs256(key, parts)) Die("JAG0's signature does not verify");
  for (auto _ : state) benchmark::DoNotOptimize(VerifyEs256(key, parts));
}

void BM_RawEarSignature(benchmark::State& state) {
  const S1Setup& setup = Setup();
  const SignedParts parts = SplitEs256(setup.ear);
  EVP_PKEY* key = setup.trustee_leaf_key.get();
  if (!VerifyEs256(key, parts)) Die("EAR_TDX0's signature does not verify");
  for (auto _ : state) benchmark::DoNotOptimize(VerifyEs256(key, parts));
}

void BM_RawEarChain(benchmark::State& state) {
  const S1Setup& setup = Setup();
  X509_STORE* store = TrusteeStore(setup);
  if (!VerifyChain(store, setup.trustee_leaf_der)) {
    Die("the Trustee leaf does not chain to its root");
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(VerifyChain(store, setup.trustee_leaf_der));
  }
  X509_STORE_free(store);
}

void BM_RawS1Checks(benchmark::State& state) {
  const S1Setup& setup = Setup();
  const SignedParts jag = SplitEs256(setup.jag);
  const SignedParts ear = SplitEs256(setup.ear);
  X509_STORE* store = TrusteeStore(setup);
  for (auto _ : state) {
    bool ok = VerifyEs256(setup.idp_public_key.get(), jag);
    ok &= VerifyEs256(setup.trustee_leaf_key.get(), ear);
    ok &= VerifyChain(store, setup.trustee_leaf_der);
    if (!ok) {
      state.SkipWithError("a signature check failed");
      break;
    }
  }
  X509_STORE_free(store);
}

BENCHMARK_CAPTURE(BM_DecideS1, warm, Mode::kWarm)->UseRealTime();
BENCHMARK_CAPTURE(BM_DecideS1, cold, Mode::kCold)->UseRealTime();
BENCHMARK_CAPTURE(BM_DecideS1, no_tokens, Mode::kNoTokens)->UseRealTime();
BENCHMARK(BM_RawJagSignature);
BENCHMARK(BM_RawEarSignature);
BENCHMARK(BM_RawEarChain);
BENCHMARK(BM_RawS1Checks);

}  // namespace
}  // namespace verdict::tokens::testing

int main(int argc, char** argv) {
  // The fixture writes key files and trust files under ::testing::TempDir(),
  // which is TEST_TMPDIR when set. A private directory keeps them out of
  // /tmp after the run.
  char scratch[] = "/tmp/verdict-token-bench-XXXXXX";
  if (mkdtemp(scratch) == nullptr) {
    std::perror("token_bench: mkdtemp");
    return 1;
  }
  setenv("TEST_TMPDIR", scratch, 1);

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::filesystem::remove_all(scratch);
  return 0;
}
