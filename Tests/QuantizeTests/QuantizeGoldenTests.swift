import XCTest
@testable import Quantize
import ModelFiles
import QwenKitIO
