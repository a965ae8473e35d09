-- The 20 everyday queries of issue #16, in turn on each connection.
local paths = {"/api/v1/search?q=%E9%9D%99%E5%A4%9C%E6%80%9D","/api/v1/search?q=%E5%BA%8A%E5%89%8D%E6%98%8E%E6%9C%88%E5%85%89","/api/v1/search?q=%E6%98%A5%E6%9C%9B","/api/v1/search?q=%E5%B0%86%E8%BF%9B%E9%85%92","/api/v1/search?q=%E7%99%BB%E9%B9%B3%E9%9B%80%E6%A5%BC","/api/v1/search?q=%E6%97%A9%E5%8F%91%E7%99%BD%E5%B8%9D%E5%9F%8E","/api/v1/search?q=%E9%9D%99%E5%A4%9C%E6%80%9D%20%E6%9D%8E%E7%99%BD","/api/v1/search?q=jingyesi","/api/v1/search?q=chunwang","/api/v1/search?q=zaofabaidicheng","/api/v1/search?q=%E9%9D%9C%E5%A4%9C%E6%80%9D","/api/v1/search?q=%E6%98%A5%E6%99%93","/api/v1/search?q=%E7%9B%B8%E6%80%9D","/api/v1/search?q=%E6%B0%B4%E8%B0%83%E6%AD%8C%E5%A4%B4","/api/v1/search?q=%E6%98%8E%E6%9C%88%E5%87%A0%E6%97%B6%E6%9C%89","/api/v1/search?q=%E5%BF%B5%E5%A5%B4%E5%A8%87%20%E8%B5%A4%E5%A3%81%E6%80%80%E5%8F%A4","/api/v1/search?q=%E6%9D%8E%E7%99%BD","/api/v1/search?q=%E6%9D%9C%E7%94%AB","/api/v1/search?q=%E6%9C%9B%E5%BA%90%E5%B1%B1%E7%80%91%E5%B8%83","/api/v1/search?q=%E9%BB%84%E9%B9%A4%E6%A5%BC"}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
