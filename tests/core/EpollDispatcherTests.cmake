# Included from tests/CMakeLists.txt. The loopback test needs Qt6::Network,
# which the gateway links anyway.
add_executable(tst_epolldispatcher ${CMAKE_CURRENT_LIST_DIR}/tst_epolldispatcher.cpp)
set_target_properties(tst_epolldispatcher PROPERTIES AUTOMOC ON)
target_include_directories(tst_epolldispatcher PRIVATE ${CMAKE_CURRENT_LIST_DIR}/../../core)
target_link_libraries(tst_epolldispatcher PRIVATE pushcore Qt6::Test Qt6::Network)
add_test(NAME tst_epolldispatcher COMMAND tst_epolldispatcher)
