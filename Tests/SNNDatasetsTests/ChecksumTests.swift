import SNNBase
import Testing

@testable import SNNDatasets

@Suite struct ChecksumTests {
  func md5(_ s: String) -> String { MD5.hexDigest(Array(s.utf8)) }
  func sha256(_ s: String) -> String { SHA256.hexDigest(Array(s.utf8)) }

  @Test func md5TestSuiteOfRFC1321() {
    #expect(md5("") == "d41d8cd98f00b204e9800998ecf8427e")
    #expect(md5("a") == "0cc175b9c0f1b6a831c399e269772661")
    #expect(md5("abc") == "900150983cd24fb0d6963f7d28e17f72")
    #expect(md5("message digest") == "f96b697d7cb7938d525a2f31aaf161d0")
    #expect(md5("abcdefghijklmnopqrstuvwxyz") == "c3fcd3d76192e4007dfb496cca67e13b")
    #expect(
      md5("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        == "d174ab98d277d9f5a5611c2c9f419d9f")
    #expect(md5(String(repeating: "1234567890", count: 8)) == "57edf4a22be3c955ac49da2e2107b67a")
  }

  @Test func sha256VectorsOfFIPS180() {
    #expect(sha256("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(sha256("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(
      sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
        == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    #expect(
      sha256(String(repeating: "a", count: 1_000_000))
        == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }

  @Test func xxh64PublishedVectors() {
    #expect(XXH64.hash([]) == 0xEF46_DB37_51D8_E999)
    #expect(XXH64.hash([], seed: 1) == 0xD5AF_BA13_36A3_BE4B)
    #expect(XXH64.hash(Array("a".utf8)) == 0xD24E_C4F1_A98C_6E5B)
    #expect(XXH64.hash(Array("abc".utf8)) == 0x44BC_2CF5_AD77_0999)
    #expect(XXH64.hash(Array("asdf".utf8)) == 0x4158_72F5_99CE_A71E)
    #expect(XXH64.hash(Array("Call me Ishmael.".utf8)) == 0x6D04_390F_C9D6_1A90)
    #expect(
      XXH64.hash(Array("Nobody inspects the spammish repetition".utf8)) == 0xFBCE_A83C_8A37_8BF1)
  }

  @Test func chunkedUpdatesMatchOneShot() {
    var lcg = TestLCG(state: 3)
    let data = (0..<1000).map { _ in UInt8(truncatingIfNeeded: lcg.next()) }
    for split in [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 999] {
      var m = MD5()
      m.update(Array(data[..<split]))
      m.update(Array(data[split...]))
      #expect(m.finalize() == MD5.hash(data))
      var s = SHA256()
      s.update(Array(data[..<split]))
      s.update(Array(data[split...]))
      #expect(s.finalize() == SHA256.hash(data))
    }
    // Lengths around the padding boundary.
    #expect(MD5.hexDigest(Array(repeating: 0x61, count: 55)) == "ef1772b6dff9a122358552954ad0df65")
    #expect(MD5.hexDigest(Array(repeating: 0x61, count: 56)) == "3b0c8ac703f828b04c6c197006d17218")
    #expect(
      SHA256.hexDigest(Array(repeating: 0x61, count: 64))
        == "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb")
  }

  @Test(.enabled(if: TestData.available)) func publishedMNISTChecksums() throws {
    // MD5s published with the original MNIST distribution.
    let root = TestData.root! + "/mnist/"
    #expect(
      MD5.hexDigest(try FileIO.read(root + "train-labels-idx1-ubyte.gz"))
        == "d53e105ee54ea40749a09fcbcd1e9432")
    #expect(
      MD5.hexDigest(try FileIO.read(root + "t10k-images-idx3-ubyte.gz"))
        == "9fb629c4189551a2d022fa330f9573f3")
  }
}
