import SNNBase
@testable import SNNDatasets

/// A minimal ZIP *writer* for tests (stored members, or deflated with one fixed-Huffman
/// block of literals), with knobs to produce specific corruptions.
struct TestZIPMember {
  var name: String
  var data: [UInt8]
  var method: UInt16 = 0  // 0 stored, 8 deflated (fixed Huffman literals), other = raw copy
  var flags: UInt16 = 0
  var crcOverride: UInt32? = nil
  /// Streaming style: zero CRC and sizes in the local header (flag bit 3), the real values
  /// in a data descriptor after the data and in the central directory.
  var dataDescriptor = false
}

func makeZIP(_ members: [TestZIPMember], comment: [UInt8] = [], zip64Locator: Bool = false)
  -> [UInt8]
{
  func u16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
  func u32(_ v: Int) -> [UInt8] { u16(v & 0xFFFF) + u16((v >> 16) & 0xFFFF) }
  var out: [UInt8] = []
  var central: [UInt8] = []
  for m in members {
    let payload: [UInt8]
    if m.method == 8 {
      var w = BitWriter()
      w.fixedBlock(m.data.map { .literal($0) }, final: true)
      payload = w.bytes
    } else {
      payload = m.data
    }
    let crc = Int(m.crcOverride ?? CRC32.checksum(m.data))
    let name = Array(m.name.utf8)
    let offset = out.count
    let flags = Int(m.flags) | (m.dataDescriptor ? 8 : 0)
    out += [0x50, 0x4B, 0x03, 0x04] + u16(20) + u16(flags) + u16(Int(m.method)) + u16(0) + u16(0)
    if m.dataDescriptor {
      out += u32(0) + u32(0) + u32(0) + u16(name.count) + u16(0) + name + payload
      out += [0x50, 0x4B, 0x07, 0x08] + u32(crc) + u32(payload.count) + u32(m.data.count)
    } else {
      out += u32(crc) + u32(payload.count) + u32(m.data.count) + u16(name.count) + u16(0) + name
      out += payload
    }
    central += [0x50, 0x4B, 0x01, 0x02] + u16(20) + u16(20) + u16(flags) + u16(Int(m.method))
    central += u16(0) + u16(0)
    central += u32(crc) + u32(payload.count) + u32(m.data.count) + u16(name.count) + u16(0) + u16(0)
    central += u16(0) + u16(0) + u32(0) + u32(offset) + name
  }
  let cdOffset = out.count
  out += central
  if zip64Locator {
    out += [0x50, 0x4B, 0x06, 0x07] + u32(0) + u32(0) + u32(0) + u32(1)
  }
  out += [0x50, 0x4B, 0x05, 0x06] + u16(0) + u16(0) + u16(members.count) + u16(members.count)
  out += u32(central.count) + u32(cdOffset) + u16(comment.count) + comment
  return out
}

/// One N-MNIST event as its 5 bytes.
func nmnistEvent(x: UInt8, y: UInt8, on: Bool, t: UInt32) -> [UInt8] {
  [x, y, (on ? 0x80 : 0) | UInt8((t >> 16) & 0x7F), UInt8((t >> 8) & 0xFF), UInt8(t & 0xFF)]
}
