{
  # Built by scripts/build-native.mjs (part of `npm run build`) against the
  # installed Node headers; nothing is downloaded. Nothing here links the
  # vendor's CTP library: the addon loads it with dlopen at run time.
  'target_defaults': {
    'include_dirs': ['include'],
    'cflags_cc': ['-std=c++17', '-Wall', '-Wextra', '-Werror=return-type', '-fexceptions'],
    'cflags_cc!': ['-fno-exceptions', '-std=gnu++17'],
    'cflags!': ['-fno-exceptions'],
  },
  'variables': {
    'ctp_simulator_sources': ['<!@(ls -1 ctp-simulator/*.cc)'],
  },
  'targets': [
    {
      # The node-addon-api binding: build/Release/tickflow_ctp.node.
      'target_name': 'tickflow_ctp',
      'sources': ['<!@(ls -1 addon/*.cc)'],
      'include_dirs': ["<!(node -p \"require('node-addon-api').include_dir\")"],
      'defines': ['NAPI_VERSION=8', 'NAPI_CPP_EXCEPTIONS'],
      'libraries': ['-ldl', '-lpthread'],
    },
    {
      # flock(2) for the audit trail's one-writer lock: build/Release/tickflow_fs.node.
      'target_name': 'tickflow_fs',
      'sources': ['fs/file-lock.cc'],
      'include_dirs': ["<!(node -p \"require('node-addon-api').include_dir\")"],
      'defines': ['NAPI_VERSION=8', 'NAPI_CPP_EXCEPTIONS'],
    },
    {
      # The CTP simulator as SDK 6.7.11 ships the library: the 4-argument factory.
      'target_name': 'thostmduserapi_ctp_simulator',
      'type': 'shared_library',
      'product_prefix': '',
      'product_extension': 'so',
      'sources': ['<@(ctp_simulator_sources)'],
      'defines': ['TICKFLOW_CTP_SIMULATOR_API_VERSION="v6.7.11_tickflow_ctp_simulator"', 'TICKFLOW_CTP_SIMULATOR_FACTORY_ARITY=4'],
      'cflags': ['-fvisibility=hidden'],
      'ldflags': ['-Wl,--no-undefined'],
      'libraries': ['-lpthread'],
    },
    {
      # The same library as SDK 6.7.7 ships it: the 3-argument factory and the 204-byte login response.
      'target_name': 'thostmduserapi_ctp_simulator_6_7_7',
      'type': 'shared_library',
      'product_prefix': '',
      'product_extension': 'so',
      'sources': ['<@(ctp_simulator_sources)'],
      'defines': ['TICKFLOW_CTP_SIMULATOR_API_VERSION="v6.7.7_tickflow_ctp_simulator"', 'TICKFLOW_CTP_SIMULATOR_FACTORY_ARITY=3'],
      'cflags': ['-fvisibility=hidden'],
      'ldflags': ['-Wl,--no-undefined'],
      'libraries': ['-lpthread'],
    },
    {
      # A library reporting a version whose layout nothing measured: the addon must refuse it.
      'target_name': 'thostmduserapi_ctp_simulator_unknown_version',
      'type': 'shared_library',
      'product_prefix': '',
      'product_extension': 'so',
      'sources': ['<@(ctp_simulator_sources)'],
      'defines': ['TICKFLOW_CTP_SIMULATOR_API_VERSION="v9.1.0_tickflow_ctp_simulator"', 'TICKFLOW_CTP_SIMULATOR_FACTORY_ARITY=4'],
      'cflags': ['-fvisibility=hidden'],
      'ldflags': ['-Wl,--no-undefined'],
      'libraries': ['-lpthread'],
    },
  ],
}
